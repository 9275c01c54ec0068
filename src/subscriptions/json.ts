import { moneyJson } from '../money/money.ts';
import { isoOrNull } from '../http/request-support.ts';
import type { SubscriptionDetail } from './repository.ts';
import { z } from 'zod';
import { isoDateTime, money } from '../http/responses.ts';

export function subscriptionJson(s: SubscriptionDetail) {
  const current = s.segments.find((g) => g.validTo === null) ?? s.segments.at(-1);
  return {
    id: s.id,
    deployment_id: s.deploymentId,
    status: s.status,
    plan: current
      ? { code: current.planVersion.plan.code, version: current.planVersion.version, plan_version_id: current.planVersionId }
      : null,
    started_at: s.startedAt.toISOString(),
    ended_at: isoOrNull(s.endedAt),
    current_period_start: s.currentPeriodStart.toISOString(),
    current_period_end: s.currentPeriodEnd.toISOString(),
    trial_ends_at: isoOrNull(s.trialEndsAt),
    segments: s.segments.map((g) => ({
      id: g.id,
      plan_code: g.planVersion.plan.code,
      plan_version: g.planVersion.version,
      plan_version_id: g.planVersionId,
      base_price: moneyJson(g.planVersion.basePriceMinor, g.planVersion.currency),
      status: g.status,
      valid_from: g.validFrom.toISOString(),
      valid_to: isoOrNull(g.validTo),
    })),
    addons: s.addons.map((a) => ({
      id: a.id,
      addon_id: a.addonId,
      code: a.addonCode,
      name: a.addonName,
      unit_price: moneyJson(a.unitPriceMinor, a.currency),
      quantity: a.quantity,
      attached_at: a.attachedAt.toISOString(),
      detached_at: isoOrNull(a.detachedAt),
    })),
    created_at: s.createdAt.toISOString(),
  };
}

export const subscriptionJsonSchema = z.strictObject({
  id: z.uuid(),
  deployment_id: z.uuid(),
  status: z.string(),
  plan: z.strictObject({ code: z.string(), version: z.number().int(), plan_version_id: z.uuid() }).nullable(),
  started_at: isoDateTime,
  ended_at: isoDateTime.nullable(),
  current_period_start: isoDateTime,
  current_period_end: isoDateTime,
  trial_ends_at: isoDateTime.nullable(),
  segments: z.array(
    z.strictObject({
      id: z.uuid(),
      plan_code: z.string(),
      plan_version: z.number().int(),
      plan_version_id: z.uuid(),
      base_price: money,
      status: z.string(),
      valid_from: isoDateTime,
      valid_to: isoDateTime.nullable(),
    }),
  ),
  addons: z.array(
    z.strictObject({
      id: z.uuid(),
      addon_id: z.uuid(),
      code: z.string(),
      name: z.string(),
      unit_price: money,
      quantity: z.number().int(),
      attached_at: isoDateTime,
      detached_at: isoDateTime.nullable(),
    }),
  ),
  created_at: isoDateTime,
});
