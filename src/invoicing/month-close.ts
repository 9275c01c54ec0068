// Month close: one invoice per tenant per period, each tenant in its own transaction.
//
// Idempotency is in the database first: a per-(tenant, period) advisory lock serialises writers,
// the unique (tenant_id, period_start) key makes a second insert impossible, and a forced run
// stamps last_run_id so a retried job does not regenerate an invoice twice.
import type { Logger } from 'pino';
import type { PrismaClient, Tx } from '../platform/database.ts';
import { ValidationError } from '../platform/errors.ts';
import { billableTenantIds, loadTenantBilling, type TenantBilling } from './billing-inputs.ts';
import { lineJson } from './invoices.ts';
import { hasEnded, type Period } from './period.ts';
import { canonicalInputs, computeQuote, inputsHash, type Quote, type QuoteLine } from './quote-engine.ts';
import { moneyJson, type MoneyJson } from '../money/money.ts';

export interface MonthCloseOptions {
  runId: string;
  period: Period;
  force: boolean;
  dryRun: boolean;
  tenantId: string | null;
  reason: string | null;
  requestedBy: string;
}

export interface MonthCloseDeps {
  prisma: PrismaClient;
  now: Date;
  logger?: Logger;
  onProgress?: (progress: { done: number; total: number }) => void;
  /** Tenants loaded per set-based round of queries. */
  chunkSize?: number;
  /** Tenants written at once (each in its own transaction); keep below the connection pool size. */
  concurrency?: number;
}

export type TenantOutcomeKind = 'created' | 'skipped' | 'regenerated' | 'refused' | 'void' | 'failed' | 'would_create' | 'would_regenerate' | 'would_refuse' | 'unchanged';

export interface LineChange {
  kind: string;
  deployment_id: string | null;
  resource_kind: string | null;
  description: string;
  old_amount: MoneyJson | null;
  new_amount: MoneyJson | null;
}

export interface TenantChange {
  tenant_id: string;
  tenant_slug: string;
  action: TenantOutcomeKind;
  currency: string;
  old_totals: { subtotal: MoneyJson; tax: MoneyJson; total: MoneyJson } | null;
  new_totals: { subtotal: MoneyJson; tax: MoneyJson; total: MoneyJson };
  lines: LineChange[];
}

export interface MonthCloseSummary {
  run_id: string;
  period: string;
  force: boolean;
  dry_run: boolean;
  tenant_id: string | null;
  tenants: number;
  created: number;
  skipped: number;
  regenerated: number;
  refused: number;
  void_left_alone: number;
  failed: number;
  late_usage_events: number;
  late_usage: { tenant_id: string; tenant_slug: string; events: number }[];
  failures: { tenant_id: string; tenant_slug: string | null; error: string }[];
  refusals: { tenant_id: string; tenant_slug: string; invoice_id: string; reason: string }[];
  changes?: TenantChange[];
}

interface ExistingInvoice {
  id: string;
  tenant_id: string;
  status: 'draft' | 'issued' | 'paid' | 'void';
  revision: number;
  last_run_id: string | null;
  subtotal_minor: bigint;
  tax_minor: bigint;
  total_minor: bigint;
  inputs_hash: string;
}

interface StoredLine {
  invoice_id: string;
  kind: string;
  deployment_id: string | null;
  resource_kind: string | null;
  description: string;
  quantity: string;
  unit_price: string;
  amount_minor: bigint;
  line_no: number;
}

const REFUSE_PAID = 'invoice is paid: a paid invoice is never recomputed; void it and issue a correction instead';

export async function closeMonth(deps: MonthCloseDeps, options: MonthCloseOptions): Promise<MonthCloseSummary> {
  const { prisma } = deps;
  const { period } = options;
  if (!hasEnded(period, deps.now)) {
    throw new ValidationError({ field: 'period', message: `${period.key} has not ended yet; a month is closed once it is over` });
  }
  if (options.tenantId) {
    const found = await prisma.tenant.findUnique({ where: { id: options.tenantId }, select: { id: true } });
    if (!found) throw new ValidationError({ field: 'tenant_id', message: 'no such tenant' });
  }

  const summary: MonthCloseSummary = {
    run_id: options.runId,
    period: period.key,
    force: options.force,
    dry_run: options.dryRun,
    tenant_id: options.tenantId,
    tenants: 0,
    created: 0,
    skipped: 0,
    regenerated: 0,
    refused: 0,
    void_left_alone: 0,
    failed: 0,
    late_usage_events: 0,
    late_usage: [],
    failures: [],
    refusals: [],
    ...(options.dryRun ? { changes: [] } : {}),
  };

  const recompute = options.force || options.dryRun;
  const tenantIds = await billableTenantIds(prisma, period, { tenantId: options.tenantId, includeInvoiced: recompute });
  summary.tenants = tenantIds.length;
  summary.late_usage = await lateUsage(prisma, period, options.tenantId);
  summary.late_usage_events = summary.late_usage.reduce((sum, l) => sum + l.events, 0);

  const chunkSize = deps.chunkSize ?? 500;
  let done = 0;
  deps.onProgress?.({ done, total: tenantIds.length });
  for (let i = 0; i < tenantIds.length; i += chunkSize) {
    const chunk = tenantIds.slice(i, i + chunkSize);
    const existing = await existingInvoices(prisma, chunk, period);
    // Without force an existing invoice is skipped before anything is computed for it.
    const toCompute = recompute ? chunk : chunk.filter((t) => !existing.has(t));
    const billing = await loadTenantBilling(prisma, toCompute, period);
    const storedLines = options.dryRun ? await linesOf(prisma, [...existing.values()].map((e) => e.id)) : new Map<string, StoredLine[]>();

    const closeTenant = async (tenantId: string) => {
      const tenantBilling = billing.get(tenantId);
      try {
        if (!recompute && existing.has(tenantId)) {
          summary.skipped += 1;
        } else if (!tenantBilling) {
          throw new Error('tenant billing inputs could not be loaded');
        } else if (options.dryRun) {
          const change = previewChange(tenantBilling, computeQuote(tenantBilling.input), existing.get(tenantId) ?? null, storedLines);
          summary.changes!.push(change);
          count(summary, change.action);
        } else {
          const quote = computeQuote(tenantBilling.input);
          const outcome = await writeTenantInvoice(prisma, { billing: tenantBilling, quote, options, now: deps.now });
          count(summary, outcome.kind);
          if (outcome.kind === 'refused') {
            summary.refusals.push({ tenant_id: tenantId, tenant_slug: tenantBilling.slug, invoice_id: outcome.invoiceId, reason: REFUSE_PAID });
          }
        }
      } catch (error) {
        summary.failed += 1;
        summary.failures.push({ tenant_id: tenantId, tenant_slug: tenantBilling?.slug ?? null, error: (error as Error).message });
        deps.logger?.error({ err: error, tenantId, period: period.key }, 'month close failed for tenant');
      }
      done += 1;
      deps.onProgress?.({ done, total: tenantIds.length });
    };
    // A few lanes drain the chunk in order; each tenant is still its own transaction.
    let next = 0;
    const lane = async () => {
      while (next < chunk.length) await closeTenant(chunk[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 4) }, lane));
  }
  summary.changes?.sort((a, b) => a.tenant_slug.localeCompare(b.tenant_slug));
  summary.failures.sort((a, b) => (a.tenant_slug ?? a.tenant_id).localeCompare(b.tenant_slug ?? b.tenant_id));
  return summary;
}

function count(summary: MonthCloseSummary, kind: TenantOutcomeKind): void {
  switch (kind) {
    case 'created':
    case 'would_create':
      summary.created += 1;
      break;
    case 'regenerated':
    case 'would_regenerate':
      summary.regenerated += 1;
      break;
    case 'refused':
    case 'would_refuse':
      summary.refused += 1;
      break;
    case 'void':
      summary.void_left_alone += 1;
      break;
    case 'skipped':
    case 'unchanged':
      summary.skipped += 1;
      break;
    case 'failed':
      summary.failed += 1;
      break;
  }
}

/** Events that arrived for the period after its invoice was computed (counted, billed by a forced re-run). */
async function lateUsage(prisma: PrismaClient, period: Period, tenantId: string | null) {
  const rows = await prisma.$queryRaw<{ tenant_id: string; tenant_slug: string; events: number }[]>`
    SELECT i.tenant_id::text, t.slug AS tenant_slug, (e.events - i.llm_event_count)::int AS events
      FROM tenant_invoices i
      JOIN tenants t ON t.id = i.tenant_id
      JOIN (SELECT tenant_id, COUNT(*) AS events FROM llm_usage_events
             WHERE occurred_at >= ${period.start}::timestamptz AND occurred_at < ${period.end}::timestamptz
               AND (${tenantId}::uuid IS NULL OR tenant_id = ${tenantId}::uuid)
             GROUP BY tenant_id) e ON e.tenant_id = i.tenant_id
     WHERE i.period_start = ${period.start}::timestamptz
       AND e.events > i.llm_event_count
     ORDER BY t.slug`;
  return rows;
}

async function existingInvoices(db: PrismaClient | Tx, tenantIds: string[], period: Period): Promise<Map<string, ExistingInvoice>> {
  const rows = await db.$queryRaw<ExistingInvoice[]>`
    SELECT id::text, tenant_id::text, status::text AS status, revision, last_run_id::text, subtotal_minor, tax_minor, total_minor, inputs_hash
      FROM tenant_invoices WHERE tenant_id = ANY(${tenantIds}::uuid[]) AND period_start = ${period.start}::timestamptz`;
  return new Map(rows.map((r) => [r.tenant_id, r]));
}

async function linesOf(db: PrismaClient | Tx, invoiceIds: string[]): Promise<Map<string, StoredLine[]>> {
  if (invoiceIds.length === 0) return new Map();
  const rows = await db.$queryRaw<StoredLine[]>`
    SELECT invoice_id::text, kind::text AS kind, deployment_id::text, resource_kind, description, quantity::text, unit_price::text, amount_minor, line_no
      FROM tenant_invoice_lines WHERE invoice_id = ANY(${invoiceIds}::uuid[]) ORDER BY invoice_id, line_no`;
  const map = new Map<string, StoredLine[]>();
  for (const r of rows) map.set(r.invoice_id, [...(map.get(r.invoice_id) ?? []), r]);
  return map;
}

/** Lines are matched by what they bill, not by wording that carries hours: kind, deployment, resource kind and item. */
function lineKey(l: { kind: string; deployment_id: string | null; resource_kind: string | null; description: string }): string {
  const item = l.kind === 'plan_base' || l.kind === 'addon' ? l.description.split(/ \(|,/)[0] : '';
  return [l.kind, l.deployment_id ?? '', l.resource_kind ?? '', item].join('|');
}

/** Summaries carry money in the API's one shape (moneyJson), like the invoices. */
function totals(subtotal: bigint, tax: bigint, total: bigint, currency: string) {
  return { subtotal: moneyJson(subtotal, currency), tax: moneyJson(tax, currency), total: moneyJson(total, currency) };
}

function previewChange(billing: TenantBilling, quote: Quote, existing: ExistingInvoice | null, stored: Map<string, StoredLine[]>): TenantChange {
  const newLines = quote.lines.map((l) => ({ kind: l.kind, deployment_id: l.deploymentId, resource_kind: l.resourceKind, description: l.description, amount: l.amountMinor }));
  const oldLines = existing ? (stored.get(existing.id) ?? []).map((l) => ({ ...l, amount: BigInt(l.amount_minor) })) : [];
  const keys = [...new Set([...oldLines.map(lineKey), ...newLines.map(lineKey)])];
  const lines: LineChange[] = [];
  for (const key of keys) {
    const before = oldLines.find((l) => lineKey(l) === key);
    const after = newLines.find((l) => lineKey(l) === key);
    const ref = after ?? before!;
    if (before && after && before.amount === after.amount && before.description === after.description) continue;
    lines.push({
      kind: ref.kind,
      deployment_id: ref.deployment_id,
      resource_kind: ref.resource_kind,
      description: ref.description,
      old_amount: before ? moneyJson(before.amount, quote.currency) : null,
      new_amount: after ? moneyJson(after.amount, quote.currency) : null,
    });
  }
  let action: TenantOutcomeKind = 'would_create';
  if (existing) {
    if (existing.status === 'paid') action = 'would_refuse';
    else if (existing.status === 'void') action = 'void';
    else action = lines.length === 0 && existing.total_minor === quote.totalMinor ? 'unchanged' : 'would_regenerate';
  }
  return {
    tenant_id: billing.tenantId,
    tenant_slug: billing.slug,
    action,
    currency: quote.currency,
    old_totals: existing ? totals(existing.subtotal_minor, existing.tax_minor, existing.total_minor, quote.currency) : null,
    new_totals: totals(quote.subtotalMinor, quote.taxMinor, quote.totalMinor, quote.currency),
    lines,
  };
}

type WriteOutcome = { kind: 'created' | 'skipped' | 'regenerated' | 'void'; invoiceId: string } | { kind: 'refused'; invoiceId: string };

function lineRows(invoiceId: string, lines: QuoteLine[]) {
  return lines.map((l, index) => ({
    invoiceId,
    lineNo: index + 1,
    kind: l.kind,
    deploymentId: l.deploymentId,
    resourceKind: l.resourceKind,
    description: l.description,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    amountMinor: l.amountMinor,
  }));
}

async function writeTenantInvoice(
  prisma: PrismaClient,
  args: { billing: TenantBilling; quote: Quote; options: MonthCloseOptions; now: Date },
): Promise<WriteOutcome> {
  const { billing, quote, options, now } = args;
  const { period } = options;
  const inputs = { ...canonicalInputs(billing.input), llm_event_count: billing.llmEventCount };
  const hash = inputsHash(inputs);

  return prisma.$transaction(
    async (tx) => {
      // Two closes of the same period (two processes, or a retried job beside a live one) queue here.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`month-close:${billing.tenantId}:${period.key}`}, 0))`;
      // The common case first: no invoice yet. One statement inserts the invoice and its lines;
      // ON CONFLICT makes it a no-op when the invoice exists, and we fall through to that path.
      const lines = quote.lines;
      const created = await tx.$queryRaw<{ id: string }[]>`
        WITH invoice AS (
          INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, currency, subtotal_minor, tax_minor, total_minor,
                                       revision, inputs, inputs_hash, llm_event_count, computed_at, last_run_id, created_at, updated_at)
          VALUES (${billing.tenantId}::uuid, ${period.start}::timestamptz, ${period.end}::timestamptz, 'draft', ${quote.currency},
                  ${quote.subtotalMinor}, ${quote.taxMinor}, ${quote.totalMinor}, 1, ${JSON.stringify(inputs)}::jsonb, ${hash},
                  ${billing.llmEventCount}, ${now}::timestamptz, ${options.runId}::uuid, ${now}::timestamptz, ${now}::timestamptz)
          ON CONFLICT (tenant_id, period_start) DO NOTHING
          RETURNING id
        ), inserted_lines AS (
          INSERT INTO tenant_invoice_lines (invoice_id, line_no, kind, deployment_id, resource_kind, description, quantity, unit_price, amount_minor)
          SELECT invoice.id, l.ord::int, l.kind::invoice_line_kind, l.deployment_id, l.resource_kind, l.description, l.quantity, l.unit_price, l.amount_minor
            FROM invoice,
                 unnest(${lines.map((l) => l.kind)}::text[], ${lines.map((l) => l.deploymentId)}::uuid[], ${lines.map((l) => l.resourceKind)}::text[],
                        ${lines.map((l) => l.description)}::text[], ${lines.map((l) => l.quantity)}::numeric[], ${lines.map((l) => l.unitPrice)}::numeric[],
                        ${lines.map((l) => l.amountMinor)}::bigint[])
                 WITH ORDINALITY AS l(kind, deployment_id, resource_kind, description, quantity, unit_price, amount_minor, ord)
        )
        SELECT id::text FROM invoice`;
      if (created[0]) return { kind: 'created', invoiceId: created[0].id };

      const existing = (await tx.$queryRaw<ExistingInvoice[]>`
        SELECT id::text, tenant_id::text, status::text AS status, revision, last_run_id::text, subtotal_minor, tax_minor, total_minor, inputs_hash
          FROM tenant_invoices WHERE tenant_id = ${billing.tenantId}::uuid AND period_start = ${period.start}::timestamptz
           FOR UPDATE`)[0];
      if (!existing) throw new Error('invoice vanished while locked');

      if (!options.force) return { kind: 'skipped', invoiceId: existing.id };
      if (existing.last_run_id === options.runId) return { kind: 'regenerated', invoiceId: existing.id };
      if (existing.status === 'paid') return { kind: 'refused', invoiceId: existing.id };
      if (existing.status === 'void') return { kind: 'void', invoiceId: existing.id };

      const previous = await tx.tenantInvoiceLine.findMany({ where: { invoiceId: existing.id }, orderBy: { lineNo: 'asc' } });
      const revision = existing.revision + 1;
      await tx.invoiceRevision.create({
        data: {
          invoiceId: existing.id,
          revision,
          previousLines: previous.map((l) => ({ ...lineJson(l), amount_minor: l.amountMinor.toString() })),
          previousSubtotalMinor: existing.subtotal_minor,
          previousTaxMinor: existing.tax_minor,
          previousTotalMinor: existing.total_minor,
          previousInputsHash: existing.inputs_hash,
          forcedBy: options.requestedBy,
          reason: options.reason,
          forcedAt: now,
        },
      });
      await tx.tenantInvoiceLine.deleteMany({ where: { invoiceId: existing.id } });
      await tx.tenantInvoiceLine.createMany({ data: lineRows(existing.id, quote.lines) });
      await tx.tenantInvoice.update({
        where: { id: existing.id },
        data: {
          currency: quote.currency,
          subtotalMinor: quote.subtotalMinor,
          taxMinor: quote.taxMinor,
          totalMinor: quote.totalMinor,
          revision,
          inputs,
          inputsHash: hash,
          llmEventCount: billing.llmEventCount,
          computedAt: now,
          lastRunId: options.runId,
          updatedAt: now,
        },
      });
      return { kind: 'regenerated', invoiceId: existing.id };
    },
    { timeout: 60_000, maxWait: 30_000 },
  );
}
