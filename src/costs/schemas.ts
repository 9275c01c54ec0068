// Response schemas of the cost-side API (billing-api.ts shapes), for the OpenAPI document and the
// response serialiser. USD amounts are exact micro-dollars (usd.ts UsdJson): finer than cents.
import { z } from 'zod';
import { isoDateTime } from '../http/responses.ts';

export const usdAmount = z
  .object({
    amount: z.string().describe('exact decimal string in USD, e.g. "12.345"'),
    amount_micros: z.number().int().describe('millionths of a USD, exact'),
    amount_minor: z.number().int().nullable().describe('cents, only when the amount is a whole number of cents'),
    currency: z.literal('USD'),
  })
  .describe('UsdAmount');

export const balanceJsonSchema = z.strictObject({
  month_to_date_balance: usdAmount,
  account_balance: usdAmount,
  month_to_date_usage: usdAmount,
  generated_at: isoDateTime,
  fetched_at: isoDateTime,
});

const nullableIso = isoDateTime.nullable();

export const costLineJsonSchema = z.strictObject({
  id: z.string(),
  invoice_uuid: z.string(),
  invoice_id: z.string(),
  period: z.string(),
  row_number: z.number().int(),
  kind: z.string(),
  product: z.string(),
  group_description: z.string(),
  description: z.string(),
  resource_name: z.string().nullable(),
  project_name: z.string(),
  category: z.string(),
  hours: z.string().nullable(),
  period_start: nullableIso,
  period_end: nullableIso,
  usd_raw: z.string(),
  amount: usdAmount,
  fields: z.record(z.string(), z.string()).describe('the CSV row as the provider wrote it'),
  matched: z.boolean(),
  resource: z
    .object({
      id: z.string(),
      provider_resource_id: z.string().nullable(),
      kind: z.string().nullable(),
      name: z.string().nullable(),
      size: z.string().nullable(),
      created_at: nullableIso,
      deleted_at: nullableIso,
    })
    .nullable(),
  deployment: z.strictObject({ id: z.string(), slug: z.string().nullable(), display_name: z.string().nullable(), tenant_id: z.string().nullable() }).nullable(),
});

export const providerInvoiceJsonSchema = z.strictObject({
  invoice_uuid: z.string(),
  invoice_id: z.string(),
  period: z.string(),
  description: z.string(),
  date: isoDateTime,
  amount: usdAmount,
  ingest: z.strictObject({
    status: z.string(),
    ingested_at: nullableIso,
    line_count: z.number().int().nullable(),
    matched_count: z.number().int().nullable(),
    unmatched_count: z.number().int().nullable(),
    lines_total: usdAmount.nullable(),
    amount_mismatch: z.boolean(),
    csv_checksum: z.string().nullable(),
    last_error: z.string().nullable(),
  }),
  push: z.strictObject({
    status: z.string(),
    pushed_at: nullableIso,
    finance_invoice_id: z.string().nullable(),
    action: z.string().nullable(),
    pushed_checksum: z.string().nullable(),
    error: z.string().nullable(),
  }),
  created_at: isoDateTime,
  updated_at: isoDateTime,
});
