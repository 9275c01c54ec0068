import type { Addon } from '../generated/prisma/client.ts';
import { moneyJson } from '../money/money.ts';
import { decimalString, jsonInteger } from '../http/request-support.ts';
import type { PlanVersionWithAllowances, PlanWithVersions } from './repository.ts';
import { z } from 'zod';
import { isoDateTime, money } from '../http/responses.ts';

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

export const planVersionJsonSchema = z.strictObject({
  id: z.uuid(),
  version: z.number().int(),
  currency: z.string(),
  base_price: money,
  allowances: z.array(z.strictObject({ resource_kind: z.string(), included_hours: z.number().int(), overage_unit_price: z.string().describe('exact decimal per hour') })),
  created_at: isoDateTime,
});

export const planJsonSchema = z.strictObject({
  id: z.uuid(),
  code: z.string(),
  name: z.string(),
  latest_version: z.number().int().nullable(),
  versions: z.array(planVersionJsonSchema),
  created_at: isoDateTime,
});

export const addonJsonSchema = z.strictObject({
  id: z.uuid(),
  code: z.string(),
  name: z.string(),
  price: money,
  created_at: isoDateTime,
  updated_at: isoDateTime,
});
