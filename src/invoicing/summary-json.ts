// The month close summary as the API documents it (GET /jobs/:id, GET /month-close-runs): the
// MonthCloseSummary interface of month-close.ts as a zod schema, money in the one money shape.
import { z } from 'zod';
import { money } from '../http/responses.ts';

const totals = z.strictObject({ subtotal: money, tax: money, total: money });

export const monthCloseSummarySchema = z
  .object({
    run_id: z.string(),
    period: z.string(),
    force: z.boolean(),
    dry_run: z.boolean(),
    tenant_id: z.string().nullable(),
    tenants: z.number().int(),
    created: z.number().int(),
    skipped: z.number().int(),
    regenerated: z.number().int(),
    refused: z.number().int(),
    void_left_alone: z.number().int(),
    failed: z.number().int(),
    late_usage_events: z.number().int(),
    late_usage: z.array(z.strictObject({ tenant_id: z.string(), tenant_slug: z.string(), events: z.number().int() })),
    failures: z.array(z.strictObject({ tenant_id: z.string(), tenant_slug: z.string().nullable(), error: z.string() })),
    refusals: z.array(z.strictObject({ tenant_id: z.string(), tenant_slug: z.string(), invoice_id: z.string(), reason: z.string() })),
    changes: z
      .array(
        z.strictObject({
          tenant_id: z.string(),
          tenant_slug: z.string(),
          action: z.string(),
          currency: z.string(),
          old_totals: totals.nullable(),
          new_totals: totals,
          lines: z.array(
            z.strictObject({
              kind: z.string(),
              deployment_id: z.string().nullable(),
              resource_kind: z.string().nullable(),
              description: z.string(),
              old_amount: money.nullable(),
              new_amount: money.nullable(),
            }),
          ),
        }),
      )
      .optional()
      .describe('dry runs: per tenant, what a forced close would change, line by line'),
  });
