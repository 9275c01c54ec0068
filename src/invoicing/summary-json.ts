// The month close summary as the API documents it (GET /jobs/:id, GET /month-close-runs): the
// MonthCloseSummary interface of month-close.ts as a zod schema, money in the one money shape.
import { z } from 'zod';
import { money } from '../http/responses.ts';

const totals = z.strictObject({ subtotal: money, tax: money, total: money });

const lineChange = {
  kind: z.string(),
  deployment_id: z.string().nullable(),
  resource_kind: z.string().nullable(),
  description: z.string(),
  old_amount: money.nullable(),
  new_amount: money.nullable(),
};

export const monthCloseSummarySchema = z.object({
  run_id: z.string(),
  period: z.string(),
  force: z.boolean(),
  dry_run: z.boolean(),
  reissue: z.boolean(),
  tenant_id: z.string().nullable(),
  tenants: z.number().int(),
  created: z.number().int(),
  skipped: z.number().int(),
  regenerated: z.number().int(),
  unchanged: z.number().int().describe('forced, recomputed, and nothing changed: nothing written'),
  adjusted: z.number().int().describe('issued or paid invoices corrected by an adjustment note'),
  reissued: z.number().int(),
  void_left_alone: z.number().int(),
  failed: z.number().int(),
  late_usage_events: z.number().int(),
  late_usage: z.array(z.strictObject({ tenant_id: z.string(), tenant_slug: z.string(), events: z.number().int() })),
  failures: z.array(z.strictObject({ tenant_id: z.string(), tenant_slug: z.string().nullable(), error: z.string() })),
  adjustment_notes: z.array(
    z.strictObject({ tenant_id: z.string(), tenant_slug: z.string(), invoice_id: z.string(), note_id: z.string(), number: z.string(), total_delta: money }),
  ),
  changes: z
    .array(
      z.strictObject({
        tenant_id: z.string(),
        tenant_slug: z.string(),
        action: z.string().describe('would_create, would_regenerate, would_adjust, would_reissue, unchanged or void'),
        invoice_status: z.string().nullable(),
        currency: z.string(),
        old_totals: totals.nullable(),
        new_totals: totals,
        lines: z.array(z.strictObject(lineChange)),
        adjustment: z
          .strictObject({
            subtotal_delta: money,
            tax_delta: money,
            total_delta: money,
            lines: z.array(z.strictObject({ ...lineChange, delta: money })),
          })
          .optional()
          .describe('would_adjust: the adjustment note a force would issue (negative = credit)'),
      }),
    )
    .optional()
    .describe('dry runs: per tenant, what a forced close would do, line by line'),
});
