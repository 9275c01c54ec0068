// Response schemas of the invoicing API, shaped as invoices.ts, quote-deployment.ts and the routes
// shape their JSON; the OpenAPI document and the response serialiser both use them.
import { z } from 'zod';
import { isoDateTime, money } from '../http/responses.ts';
import { runJsonSchema } from '../operations/routes.ts';
import { monthCloseSummarySchema } from './summary-json.ts';

const lineFields = {
  kind: z.string().describe('plan_base, addon, overage, llm_usage or tax'),
  deployment_id: z.uuid().nullable(),
  resource_kind: z.string().nullable(),
  description: z.string(),
  quantity: z.string().describe('exact decimal'),
  unit_price: z.string().describe('exact decimal'),
  amount: money,
};

export const invoiceJsonSchema = z.strictObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  tenant_slug: z.string().optional(),
  tenant_name: z.string().optional(),
  period: z.string().describe('YYYY-MM'),
  period_start: isoDateTime,
  period_end: isoDateTime,
  status: z.string().describe('draft, issued, paid or void'),
  currency: z.string(),
  revision: z.number().int(),
  subtotal: money,
  tax: money,
  total: money,
  llm_event_count: z.number().int(),
  inputs_hash: z.string(),
  computed_at: isoDateTime,
  created_at: isoDateTime,
  updated_at: isoDateTime,
});

export const invoiceDetailJsonSchema = invoiceJsonSchema.extend({
  lines: z.array(z.strictObject({ line_no: z.number().int(), ...lineFields })),
  inputs: z.unknown().describe('the billing inputs the invoice was computed from (hashed into inputs_hash)'),
  revisions: z.array(
    z.strictObject({
      revision: z.number().int(),
      forced_by: z.string(),
      forced_at: isoDateTime,
      reason: z.string().nullable(),
      previous_subtotal: money,
      previous_tax: money,
      previous_total: money,
      previous_lines: z.unknown(),
    }),
  ),
});

export const rollupAcceptedSchema = z.strictObject({
  job_id: z.uuid().nullable().describe('the run id to poll; null only when an identical close was already queued'),
  status_url: z.string(),
  period: z.string(),
  force: z.boolean(),
  dry_run: z.boolean(),
});

export const jobJsonSchema = z.strictObject({
  job_id: z.uuid(),
  queue: z.string(),
  job_state: z.string().nullable(),
  retry_count: z.number().int().nullable(),
  run: runJsonSchema.omit({ id: true }),
  summary: monthCloseSummarySchema.nullable(),
});

export const quoteJsonSchema = z.strictObject({
  deployment_id: z.uuid(),
  period: z.string(),
  as_of: isoDateTime,
  projection: z.boolean().describe('true while the period has not ended: usage counted up to as_of'),
  billable: z.boolean(),
  currency: z.string(),
  lines: z.array(z.strictObject(lineFields)),
  subtotal: money,
  tax: money,
  total: money,
});
