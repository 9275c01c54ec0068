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
  number: z.string().nullable().describe('INV-2026-000001, assigned when issued; null for a draft'),
  issued_at: isoDateTime.nullable(),
  due_at: isoDateTime.nullable(),
  paid_at: isoDateTime.nullable(),
  payment_reference: z.string().nullable(),
  voided_at: isoDateTime.nullable(),
  void_reason: z.string().nullable(),
  replaces_invoice_id: z.uuid().nullable().describe('reissue: the void invoice this one replaces'),
  currency: z.string(),
  tax_rate: z.string().describe('the GST rate it was computed with, exact decimal'),
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

export const deliveryJsonSchema = z.strictObject({
  document_type: z.enum(['invoice', 'adjustment_note']),
  document_id: z.uuid(),
  version: z.number().int().describe('1 = issued, 2 = void (invoices); 1 for a note'),
  idempotency_key: z.string(),
  state: z.enum(['pending', 'delivered', 'failed', 'skipped']),
  attempts: z.number().int(),
  last_error_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  finance_id: z.string().nullable(),
  finance_action: z.string().nullable(),
  delivered_at: isoDateTime.nullable(),
});

const party = z.unknown().describe('{ legal_name, abn, address, email } (and name for the tenant), or null for a draft');

export const invoiceDetailJsonSchema = invoiceJsonSchema.extend({
  net_total: money.describe('total plus the adjustment notes’ total deltas (0 for a void invoice)'),
  lines: z.array(z.strictObject({ line_no: z.number().int(), ...lineFields })),
  billed_to: party.describe('the tenant as billed, frozen when issued'),
  supplier: party.describe('us as billed, frozen when issued'),
  status_changes: z.array(z.strictObject({ from: z.string().nullable(), to: z.string(), actor: z.string(), reason: z.string().nullable(), at: isoDateTime })),
  adjustment_notes: z.array(
    z.strictObject({ id: z.uuid(), number: z.string(), reason: z.string(), issued_at: isoDateTime, subtotal_delta: money, tax_delta: money, total_delta: money }),
  ),
  deliveries: z.array(deliveryJsonSchema),
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
  reissue: z.boolean(),
});

export const invoiceActionSchema = z.strictObject({
  outcome: z.enum(['issued', 'paid', 'voided', 'unchanged']),
  invoice: invoiceDetailJsonSchema,
});

const noteFields = {
  id: z.uuid(),
  number: z.string().describe('AN-2026-000001'),
  invoice_id: z.uuid(),
  invoice_number: z.string().nullable(),
  invoice_issued_at: isoDateTime.nullable(),
  tenant_id: z.uuid(),
  tenant_slug: z.string(),
  tenant_name: z.string(),
  period: z.string(),
  currency: z.string(),
  reason: z.string(),
  kind: z.enum(['debit', 'credit']),
  tax_rate: z.string(),
  subtotal_delta: money,
  tax_delta: money,
  total_delta: money,
  issued_at: isoDateTime,
  created_by: z.string(),
  inputs_hash: z.string(),
};

export const adjustmentNoteJsonSchema = z.strictObject(noteFields);

export const adjustmentNoteDetailJsonSchema = z.strictObject({
  ...noteFields,
  lines: z.array(
    z.strictObject({
      line_no: z.number().int(),
      kind: z.string(),
      deployment_id: z.uuid().nullable(),
      resource_kind: z.string().nullable(),
      description: z.string(),
      quantity: z.string(),
      unit_price: z.string(),
      old_amount: money,
      new_amount: money,
      delta: money,
    }),
  ),
  billed_to: party,
  supplier: party,
  inputs: z.unknown(),
  deliveries: z.array(deliveryJsonSchema),
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
