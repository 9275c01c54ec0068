import type { Tenant } from '../generated/prisma/client.ts';
import { decimalString } from '../http/request-support.ts';

export function tenantJson(t: Tenant) {
  return {
    id: t.id,
    name: t.name,
    slug: t.slug,
    billing_currency: t.billingCurrency,
    tax_profile: { country: t.taxCountry, gst_rate: decimalString(t.taxRate) },
    created_at: t.createdAt.toISOString(),
  };
}
