// Creates a tenant: who is billed, in which currency, at which GST rate, and the details a tax
// invoice needs (legal name, ABN, billing email and address).
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import { ConflictError } from '../platform/errors.ts';
import { currencyCode, isUniqueViolation, slug } from '../http/request-support.ts';
import { normalizeAbn } from './abn.ts';
import { countryCode, FIRST_PROFILE_FROM, gstRate } from './tax-profiles.ts';
import { findTenant, type TenantWithProfiles } from './repository.ts';

/** An ABN as people write it ("51 824 753 556"); stored as its 11 digits once the ATO check digit holds. */
export const abn = z
  .string()
  .describe('Australian Business Number, 11 digits (spaces allowed); verified with the ATO check-digit algorithm')
  .transform((value, ctx) => {
    const digits = normalizeAbn(value);
    if (!digits) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid ABN (11 digits whose ATO check digit holds)' });
      return z.NEVER;
    }
    return digits;
  });

/** Billing details: every field may be set, changed, or cleared with null. */
export const billingDetailsShape = {
  legal_name: z.string().trim().min(1).max(200).nullable().optional(),
  abn: abn.nullable().optional(),
  billing_email: z.email({ error: 'must be an email address' }).max(320).nullable().optional(),
  billing_address: z.string().trim().min(1).max(1000).nullable().optional(),
};

export const createTenantBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  slug,
  billing_currency: currencyCode.default('AUD'),
  ...billingDetailsShape,
  tax_profile: z
    .strictObject({
      country: countryCode.default('AU'),
      gst_rate: gstRate.default('0.10'),
    })
    .prefault({}),
});

export type CreateTenantInput = z.output<typeof createTenantBody>;

export async function createTenant(db: Db, input: CreateTenantInput, now: Date, actor: string): Promise<TenantWithProfiles> {
  try {
    const tenant = await db.tenant.create({
      data: {
        name: input.name,
        slug: input.slug,
        billingCurrency: input.billing_currency,
        legalName: input.legal_name ?? null,
        abn: input.abn ?? null,
        billingEmail: input.billing_email ?? null,
        billingAddress: input.billing_address ?? null,
        createdAt: now,
        updatedAt: now,
        taxProfiles: {
          create: { country: input.tax_profile.country, gstRate: input.tax_profile.gst_rate, effectiveFrom: FIRST_PROFILE_FROM, createdBy: actor, createdAt: now },
        },
      },
    });
    return (await findTenant(db, tenant.id))!;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError('tenant_slug_taken', `a tenant with slug "${input.slug}" already exists`, { field: 'slug' });
    }
    throw error;
  }
}
