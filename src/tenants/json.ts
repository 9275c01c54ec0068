import { decimalString } from '../http/request-support.ts';
import { formatAbn } from './abn.ts';
import type { TenantWithProfiles } from './repository.ts';
import { profileInForce } from './tax-profiles.ts';
import type { TenantTaxProfile } from '../generated/prisma/client.ts';
import { z } from 'zod';
import { isoDateTime } from '../http/responses.ts';

function profileJson(p: TenantTaxProfile) {
  return { country: p.country, gst_rate: decimalString(p.gstRate), effective_from: p.effectiveFrom.toISOString() };
}

export function tenantJson(t: TenantWithProfiles, now: Date = new Date()) {
  const current = profileInForce(t.taxProfiles, now) ?? t.taxProfiles[0];
  return {
    id: t.id,
    name: t.name,
    slug: t.slug,
    billing_currency: t.billingCurrency,
    legal_name: t.legalName,
    abn: t.abn ? formatAbn(t.abn) : null,
    billing_email: t.billingEmail,
    billing_address: t.billingAddress,
    tax_profile: current ? profileJson(current) : null,
    tax_profiles: t.taxProfiles.map(profileJson),
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

const taxProfileSchema = z.strictObject({
  country: z.string(),
  gst_rate: z.string().describe('exact decimal, e.g. "0.1"'),
  effective_from: isoDateTime.describe('in force from this instant until the next profile'),
});

export const tenantJsonSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  billing_currency: z.string(),
  legal_name: z.string().nullable(),
  abn: z.string().nullable().describe('as the ATO writes it, e.g. "51 824 753 556"'),
  billing_email: z.string().nullable(),
  billing_address: z.string().nullable(),
  tax_profile: taxProfileSchema.nullable().describe('the profile in force now'),
  tax_profiles: z.array(taxProfileSchema).describe('every profile, oldest first'),
  created_at: isoDateTime,
  updated_at: isoDateTime,
});
