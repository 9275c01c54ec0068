import type { Tenant } from '../generated/prisma/client.ts';
import { decimalString } from '../http/request-support.ts';
import { z } from 'zod';
import { isoDateTime } from '../http/responses.ts';

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

export const tenantJsonSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  billing_currency: z.string(),
  tax_profile: z.strictObject({ country: z.string(), gst_rate: z.string().describe('exact decimal, e.g. "0.1"') }),
  created_at: isoDateTime,
});
