// Effective-dated tax profiles. A month close uses the profile in force at the end of its period
// (the latest with effective_from before the period end), so a forced re-run of an old period
// uses that period's rate, not today's.
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import type { TenantTaxProfile } from '../generated/prisma/client.ts';
import { ConflictError, NotFoundError } from '../platform/errors.ts';
import { instant, isUniqueViolation } from '../http/request-support.ts';
import { isCountryCode } from './countries.ts';

/** A tenant created without a date gets its first profile in force from the beginning of time. */
export const FIRST_PROFILE_FROM = new Date('1970-01-01T00:00:00Z');

/** A rate as an exact fraction: 0 ≤ rate < 1, at most 4 fractional digits (the column is numeric(6,4)). */
export const gstRate = z
  .string()
  .describe('exact decimal string, 0 ≤ rate < 1, up to 4 fractional digits: "0.10" is 10 %')
  .superRefine((value, ctx) => {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(value);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'must be a decimal string such as "0.10"' });
    } else if ((m[2] ?? '').length > 4) {
      ctx.addIssue({ code: 'custom', message: 'must have at most 4 fractional digits' });
    } else if (!/^0+$/.test(m[1]!)) {
      ctx.addIssue({ code: 'custom', message: 'must be at least 0 and less than 1 (0.10 is 10 %)' });
    }
  });

export const countryCode = z
  .string()
  .refine(isCountryCode, { error: 'must be an ISO 3166-1 alpha-2 country code in upper case, e.g. AU' })
  .describe('ISO 3166-1 alpha-2 country code, e.g. AU');

export const addTaxProfileBody = z.strictObject({
  country: countryCode,
  gst_rate: gstRate,
  effective_from: instant,
});

export type AddTaxProfileInput = z.output<typeof addTaxProfileBody>;

export async function addTaxProfile(db: Db, tenantId: string, input: AddTaxProfileInput, actor: string): Promise<TenantTaxProfile> {
  const tenant = await db.tenant.findUnique({ where: { id: tenantId }, select: { id: true } });
  if (!tenant) throw new NotFoundError('tenant');
  try {
    return await db.tenantTaxProfile.create({
      data: { tenantId, country: input.country, gstRate: input.gst_rate, effectiveFrom: input.effective_from, createdBy: actor },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError('tax_profile_exists', `the tenant already has a tax profile effective from ${input.effective_from.toISOString()}`, { field: 'effective_from' });
    }
    throw error;
  }
}

/** The profile in force at `at` (the latest that took effect before it). */
export function profileInForce<T extends { effectiveFrom: Date }>(profiles: T[], at: Date): T | null {
  let found: T | null = null;
  for (const p of profiles) if (p.effectiveFrom < at && (!found || p.effectiveFrom > found.effectiveFrom)) found = p;
  return found;
}
