import type { Addon } from '../generated/prisma/client.ts';
import { moneyJson } from '../money/money.ts';
import { decimalString, jsonInteger } from '../http/request-support.ts';
import type { PlanVersionWithAllowances, PlanWithVersions } from './repository.ts';

export function planVersionJson(v: PlanVersionWithAllowances) {
  return {
    id: v.id,
    version: v.version,
    currency: v.currency,
    base_price: moneyJson(v.basePriceMinor, v.currency),
    allowances: v.allowances.map((a) => ({
      resource_kind: a.resourceKind,
      included_hours: jsonInteger(a.includedHours),
      overage_unit_price: decimalString(a.overageUnitPrice),
    })),
    created_at: v.createdAt.toISOString(),
  };
}

export function planJson(p: PlanWithVersions) {
  return {
    id: p.id,
    code: p.code,
    name: p.name,
    latest_version: p.versions.at(-1)?.version ?? null,
    versions: p.versions.map(planVersionJson),
    created_at: p.createdAt.toISOString(),
  };
}

export function addonJson(a: Addon) {
  return {
    id: a.id,
    code: a.code,
    name: a.name,
    price: moneyJson(a.priceMinor, a.currency),
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}
