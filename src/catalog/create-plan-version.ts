// Creates the next version of a plan. Versions are immutable: a price or allowance change is a
// new version, and subscriptions keep pointing at the version they were on.
import { z } from 'zod';
import type { PrismaClient, Tx } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { RESOURCE_KINDS } from '../resources/kinds.ts';
import { currencyCode, minorAmount, nonNegativeDecimal } from '../http/request-support.ts';
import type { PlanVersionWithAllowances } from './repository.ts';

export const allowanceBody = z.strictObject({
  resource_kind: z.enum(RESOURCE_KINDS),
  included_hours: z.int({ error: 'must be an integer number of hours' }).min(0),
  /** Major units of the plan currency per hour over the allowance; numeric(24,12) in the database. */
  overage_unit_price: nonNegativeDecimal({ fractionDigits: 12, integerDigits: 12 }),
});

export const planVersionBody = z.strictObject({
  base_price_minor: minorAmount,
  currency: currencyCode,
  allowances: z
    .array(allowanceBody)
    .max(100)
    .superRefine((allowances, ctx) => {
      const seen = new Set<string>();
      allowances.forEach((a, i) => {
        if (seen.has(a.resource_kind)) {
          ctx.addIssue({ code: 'custom', path: [i, 'resource_kind'], message: `${a.resource_kind} is listed twice` });
        }
        seen.add(a.resource_kind);
      });
    }),
});

export type PlanVersionInput = z.output<typeof planVersionBody>;

/** Inserts version `version` of a plan with its allowances. The caller holds the plan's lock. */
export async function insertPlanVersion(
  tx: Tx,
  planId: string,
  version: number,
  input: PlanVersionInput,
  now: Date,
): Promise<PlanVersionWithAllowances> {
  return tx.planVersion.create({
    data: {
      planId,
      version,
      basePriceMinor: BigInt(input.base_price_minor),
      currency: input.currency,
      createdAt: now,
      allowances: {
        create: input.allowances.map((a) => ({
          resourceKind: a.resource_kind,
          includedHours: BigInt(a.included_hours),
          overageUnitPrice: a.overage_unit_price,
        })),
      },
    },
    include: { allowances: { orderBy: { resourceKind: 'asc' } } },
  });
}

/**
 * version = max + 1, computed while holding the plan row FOR UPDATE: two concurrent calls queue on
 * the lock instead of both reading the same max (the unique (plan_id, version) index is the backstop).
 */
export async function createPlanVersion(
  prisma: PrismaClient,
  planCode: string,
  input: PlanVersionInput,
  now: Date,
): Promise<PlanVersionWithAllowances> {
  return prisma.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM plans WHERE code = ${planCode} FOR UPDATE`;
    const planId = locked[0]?.id;
    if (!planId) throw new NotFoundError('plan', 'plan_not_found', 'code');
    const { _max } = await tx.planVersion.aggregate({ where: { planId }, _max: { version: true } });
    return insertPlanVersion(tx, planId, (_max.version ?? 0) + 1, input, now);
  });
}
