// Creates a tenant: who is billed, in which currency, and at which GST rate.
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import type { Tenant } from '../generated/prisma/client.ts';
import { ConflictError } from '../platform/errors.ts';
import { currencyCode, isUniqueViolation, slug } from '../http/request-support.ts';
import { isCountryCode } from './countries.ts';

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

export const createTenantBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  slug,
  billing_currency: currencyCode.default('AUD'),
  tax_profile: z
    .strictObject({
      country: countryCode.default('AU'),
      gst_rate: gstRate.default('0.10'),
    })
    .prefault({}),
});

export type CreateTenantInput = z.output<typeof createTenantBody>;

export async function createTenant(db: Db, input: CreateTenantInput, now: Date): Promise<Tenant> {
  try {
    return await db.tenant.create({
      data: {
        name: input.name,
        slug: input.slug,
        billingCurrency: input.billing_currency,
        taxCountry: input.tax_profile.country,
        taxRate: input.tax_profile.gst_rate,
        createdAt: now,
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError('tenant_slug_taken', `a tenant with slug "${input.slug}" already exists`, { field: 'slug' });
    }
    throw error;
  }
}
