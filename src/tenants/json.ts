import { decimalString } from '../http/request-support.ts';
import { formatAbn } from './abn.ts';
import type { TenantWithProfiles } from './repository.ts';
import { profileInForce } from './tax-profiles.ts';
import type { TenantTaxProfile } from '../generated/prisma/client.ts';

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
