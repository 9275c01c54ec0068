// Month close: one invoice per tenant per period, each tenant in its own transaction.
//
// Idempotency is in the database first: a per-(tenant, period) advisory lock serialises writers,
// a partial unique index allows one live (non-void) invoice per tenant and period, and a forced
// run stamps last_run_id so a retried job does not regenerate an invoice twice.
//
// What a forced re-run may change: a draft is recomputed in place (a new revision) when its inputs
// or amounts changed; an issued or paid invoice never changes, and a difference becomes an
// adjustment note; a void invoice is left alone unless `reissue` asks for a new draft.
import type { Logger } from 'pino';
import { addDays } from 'date-fns';
import { utc } from '@date-fns/utc';
import type { PrismaClient, Tx } from '../platform/database.ts';
import { config } from '../platform/config.ts';
import { ValidationError } from '../platform/errors.ts';
import { moneyJson, type MoneyJson } from '../money/money.ts';
import { adjustmentNotePayload } from '../receivables/payload.ts';
import { billedTo } from '../receivables/parties.ts';
import { NOTE_VERSION, recordDelivery } from '../receivables/outbox.ts';
import { receivablesSettings, type ReceivablesSettings } from '../receivables/settings.ts';
import { adjustmentFor, effectiveLines, lineKey, quoteLines, type Adjustment, type BilledLine } from './adjustment.ts';
import { billableTenantIds, loadTenantBilling, type TenantBilling } from './billing-inputs.ts';
import { nextDocumentNumber } from './document-numbers.ts';
import { lineJson } from './invoices.ts';
import { hasEnded, type Period } from './period.ts';
import { canonicalInputs, computeQuote, inputsHash, type Quote, type QuoteLine } from './quote-engine.ts';

export interface MonthCloseOptions {
  runId: string;
  period: Period;
  force: boolean;
  dryRun: boolean;
  tenantId: string | null;
  reason: string | null;
  requestedBy: string;
  /** With force: a tenant and period whose invoices are all void get a new draft that replaces the latest. */
  reissue?: boolean;
  /** 'drafts': recompute existing drafts only (the draft refresh); never creates, adjusts or reissues. */
  scope?: 'all' | 'drafts';
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
  /** Numbering, supplier and delivery of adjustment notes; from the process configuration when absent. */
  receivables?: ReceivablesSettings;
}

export type TenantOutcomeKind =
  | 'created'
  | 'skipped'
  | 'regenerated'
  | 'unchanged'
  | 'adjusted'
  | 'void'
  | 'reissued'
  | 'failed'
  | 'would_create'
  | 'would_regenerate'
  | 'would_adjust'
  | 'would_reissue';

export interface LineChange {
  kind: string;
  deployment_id: string | null;
  resource_kind: string | null;
  description: string;
  old_amount: MoneyJson | null;
  new_amount: MoneyJson | null;
}

interface Totals {
  subtotal: MoneyJson;
  tax: MoneyJson;
  total: MoneyJson;
}

export interface TenantChange {
  tenant_id: string;
  tenant_slug: string;
  action: TenantOutcomeKind;
  invoice_status: 'draft' | 'issued' | 'paid' | 'void' | null;
  currency: string;
  old_totals: Totals | null;
  new_totals: Totals;
  lines: LineChange[];
  /** would_adjust: the adjustment note a force would issue (deltas; negative = credit). */
  adjustment?: { subtotal_delta: MoneyJson; tax_delta: MoneyJson; total_delta: MoneyJson; lines: (LineChange & { delta: MoneyJson })[] };
}

export interface MonthCloseSummary {
  run_id: string;
  period: string;
  force: boolean;
  dry_run: boolean;
  reissue: boolean;
  tenant_id: string | null;
  tenants: number;
  created: number;
  skipped: number;
  regenerated: number;
  /** Forced, recomputed, and nothing changed: no revision, no note, nothing written. */
  unchanged: number;
  /** Issued or paid invoices corrected by an adjustment note. */
  adjusted: number;
  reissued: number;
  void_left_alone: number;
  failed: number;
  late_usage_events: number;
  late_usage: { tenant_id: string; tenant_slug: string; events: number }[];
  failures: { tenant_id: string; tenant_slug: string | null; error: string }[];
  adjustment_notes: { tenant_id: string; tenant_slug: string; invoice_id: string; note_id: string; number: string; total_delta: MoneyJson }[];
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
  created_at: Date;
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

interface StoredNoteLine {
  invoice_id: string;
  note_id: string;
  line_key: string;
  kind: string;
  deployment_id: string | null;
  resource_kind: string | null;
  description: string;
  quantity: string;
  unit_price: string;
  delta: bigint;
}

export async function closeMonth(deps: MonthCloseDeps, options: MonthCloseOptions): Promise<MonthCloseSummary> {
  const { prisma } = deps;
  const { period } = options;
  const scope = options.scope ?? 'all';
  if (!hasEnded(period, deps.now)) {
    throw new ValidationError({ field: 'period', message: `${period.key} has not ended yet; a month is closed once it is over` });
  }
  if (options.tenantId) {
    const found = await prisma.tenant.findUnique({ where: { id: options.tenantId }, select: { id: true } });
    if (!found) throw new ValidationError({ field: 'tenant_id', message: 'no such tenant' });
  }
  if (options.reissue && !options.force) throw new ValidationError({ field: 'reissue', message: 'reissue goes with force' });
  // An issued tax invoice is corrected by an adjustment note, and a note states its reason.
  if (options.force && !options.dryRun && scope === 'all' && !options.reason) {
    const issued = await prisma.tenantInvoice.count({
      where: { periodStart: period.start, status: { in: ['issued', 'paid'] }, ...(options.tenantId ? { tenantId: options.tenantId } : {}) },
    });
    if (issued > 0) {
      throw new ValidationError({ field: 'reason', message: `${issued} invoice(s) of ${period.key} are issued: a forced re-run may issue adjustment notes, and a note needs a reason` });
    }
  }

  const summary: MonthCloseSummary = {
    run_id: options.runId,
    period: period.key,
    force: options.force,
    dry_run: options.dryRun,
    reissue: options.reissue ?? false,
    tenant_id: options.tenantId,
    tenants: 0,
    created: 0,
    skipped: 0,
    regenerated: 0,
    unchanged: 0,
    adjusted: 0,
    reissued: 0,
    void_left_alone: 0,
    failed: 0,
    late_usage_events: 0,
    late_usage: [],
    failures: [],
    adjustment_notes: [],
    ...(options.dryRun ? { changes: [] } : {}),
  };

  const recompute = options.force || options.dryRun;
  const tenantIds =
    scope === 'drafts'
      ? await draftTenantIds(prisma, period, options.tenantId)
      : await billableTenantIds(prisma, period, { tenantId: options.tenantId, includeInvoiced: recompute });
  summary.tenants = tenantIds.length;
  if (scope === 'all') {
    summary.late_usage = await lateUsage(prisma, period, options.tenantId);
    summary.late_usage_events = summary.late_usage.reduce((sum, l) => sum + l.events, 0);
  }
  const receivables = deps.receivables ?? (options.dryRun ? undefined : receivablesSettings(config()));

  const chunkSize = deps.chunkSize ?? 500;
  let done = 0;
  deps.onProgress?.({ done, total: tenantIds.length });
  for (let i = 0; i < tenantIds.length; i += chunkSize) {
    const chunk = tenantIds.slice(i, i + chunkSize);
    const existing = await liveInvoices(prisma, chunk, period);
    // Without force an existing invoice is skipped before anything is computed for it.
    const toCompute = recompute ? chunk : chunk.filter((t) => !existing.has(t));
    const billing = await loadTenantBilling(prisma, toCompute, period);
    const stored = options.dryRun ? await linesOf(prisma, [...existing.values()].map((e) => e.id)) : null;

    const closeTenant = async (tenantId: string) => {
      const tenantBilling = billing.get(tenantId);
      try {
        if (!recompute && existing.has(tenantId)) {
          summary.skipped += 1;
        } else if (!tenantBilling) {
          throw new Error('tenant billing inputs could not be loaded');
        } else if (options.dryRun) {
          const change = previewChange(tenantBilling, computeQuote(tenantBilling.input), existing.get(tenantId) ?? null, stored!, options);
          summary.changes!.push(change);
          count(summary, change.action);
        } else {
          const quote = computeQuote(tenantBilling.input);
          const outcome = await writeTenantInvoice(prisma, { billing: tenantBilling, quote, options, now: deps.now, receivables: receivables! });
          count(summary, outcome.kind);
          if (outcome.note) summary.adjustment_notes.push({ tenant_id: tenantId, tenant_slug: tenantBilling.slug, invoice_id: outcome.invoiceId, ...outcome.note });
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
  summary.adjustment_notes.sort((a, b) => a.number.localeCompare(b.number));
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
    case 'adjusted':
    case 'would_adjust':
      summary.adjusted += 1;
      break;
    case 'reissued':
    case 'would_reissue':
      summary.reissued += 1;
      break;
    case 'void':
      summary.void_left_alone += 1;
      break;
    case 'unchanged':
      summary.unchanged += 1;
      break;
    case 'skipped':
      summary.skipped += 1;
      break;
    case 'failed':
      summary.failed += 1;
      break;
  }
}

async function draftTenantIds(prisma: PrismaClient, period: Period, tenantId: string | null): Promise<string[]> {
  const rows = await prisma.tenantInvoice.findMany({
    where: { periodStart: period.start, status: 'draft', ...(tenantId ? { tenantId } : {}) },
    select: { tenantId: true },
    orderBy: { tenantId: 'asc' },
  });
  return rows.map((r) => r.tenantId);
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
     WHERE i.period_start = ${period.start}::timestamptz AND i.status <> 'void'
       AND e.events > i.llm_event_count
     ORDER BY t.slug`;
  return rows;
}

const INVOICE_COLUMNS = 'id::text, tenant_id::text, status::text AS status, revision, last_run_id::text, subtotal_minor, tax_minor, total_minor, inputs_hash, created_at';

/** Per tenant, its live invoice for the period, or else its latest void one. */
async function liveInvoices(db: PrismaClient | Tx, tenantIds: string[], period: Period): Promise<Map<string, ExistingInvoice>> {
  const rows = await db.$queryRawUnsafe<ExistingInvoice[]>(
    `SELECT DISTINCT ON (tenant_id) ${INVOICE_COLUMNS}
       FROM tenant_invoices WHERE tenant_id = ANY($1::uuid[]) AND period_start = $2::timestamptz
      ORDER BY tenant_id, (status = 'void'), created_at DESC`,
    tenantIds,
    period.start,
  );
  return new Map(rows.map((r) => [r.tenant_id, r]));
}

async function linesOf(db: PrismaClient | Tx, invoiceIds: string[]): Promise<{ lines: Map<string, StoredLine[]>; notes: Map<string, StoredNoteLine[][]> }> {
  const lines = new Map<string, StoredLine[]>();
  const notes = new Map<string, StoredNoteLine[][]>();
  if (invoiceIds.length === 0) return { lines, notes };
  const rows = await db.$queryRaw<StoredLine[]>`
    SELECT invoice_id::text, kind::text AS kind, deployment_id::text, resource_kind, description, quantity::text, unit_price::text, amount_minor, line_no
      FROM tenant_invoice_lines WHERE invoice_id = ANY(${invoiceIds}::uuid[]) ORDER BY invoice_id, line_no`;
  for (const r of rows) lines.set(r.invoice_id, [...(lines.get(r.invoice_id) ?? []), r]);
  const noteRows = await db.$queryRaw<StoredNoteLine[]>`
    SELECT n.invoice_id::text, l.note_id::text, l.line_key, l.kind::text AS kind, l.deployment_id::text, l.resource_kind, l.description,
           l.quantity::text, l.unit_price::text, l.delta_minor AS delta
      FROM adjustment_notes n JOIN adjustment_note_lines l ON l.note_id = n.id
     WHERE n.invoice_id = ANY(${invoiceIds}::uuid[]) ORDER BY n.invoice_id, n.issued_at, n.number, l.line_no`;
  for (const r of noteRows) {
    const perInvoice = notes.get(r.invoice_id) ?? [];
    const last = perInvoice.at(-1);
    if (last && last[0]!.note_id === r.note_id) last.push(r);
    else perInvoice.push([r]);
    notes.set(r.invoice_id, perInvoice);
  }
  return { lines, notes };
}

function billedLines(lines: StoredLine[]): BilledLine[] {
  return lines.map((l) => ({ ...l, amount: BigInt(l.amount_minor) }));
}

function totals(subtotal: bigint, tax: bigint, total: bigint, currency: string): Totals {
  return { subtotal: moneyJson(subtotal, currency), tax: moneyJson(tax, currency), total: moneyJson(total, currency) };
}

function lineChanges(oldLines: BilledLine[], quote: Quote): LineChange[] {
  const newLines: BilledLine[] = quote.lines.map((l) => ({
    kind: l.kind,
    deployment_id: l.deploymentId,
    resource_kind: l.resourceKind,
    description: l.description,
    quantity: l.quantity,
    unit_price: l.unitPrice,
    amount: l.amountMinor,
  }));
  const changes: LineChange[] = [];
  for (const key of [...new Set([...oldLines.map(lineKey), ...newLines.map(lineKey)])]) {
    const before = oldLines.find((l) => lineKey(l) === key);
    const after = newLines.find((l) => lineKey(l) === key);
    const ref = after ?? before!;
    if (before && after && before.amount === after.amount && before.description === after.description) continue;
    changes.push({
      kind: ref.kind,
      deployment_id: ref.deployment_id,
      resource_kind: ref.resource_kind,
      description: ref.description,
      old_amount: before ? moneyJson(before.amount, quote.currency) : null,
      new_amount: after ? moneyJson(after.amount, quote.currency) : null,
    });
  }
  return changes;
}

function adjustmentJson(adjustment: Adjustment, currency: string): NonNullable<TenantChange['adjustment']> {
  return {
    subtotal_delta: moneyJson(adjustment.subtotalDelta, currency),
    tax_delta: moneyJson(adjustment.taxDelta, currency),
    total_delta: moneyJson(adjustment.totalDelta, currency),
    lines: adjustment.lines.map((l) => ({
      kind: l.kind,
      deployment_id: l.deployment_id,
      resource_kind: l.resource_kind,
      description: l.description,
      old_amount: moneyJson(l.old_amount, currency),
      new_amount: moneyJson(l.new_amount, currency),
      delta: moneyJson(l.delta, currency),
    })),
  };
}

/** What a forced run would do for one tenant, line by line; writes nothing. */
function previewChange(
  billing: TenantBilling,
  quote: Quote,
  existing: ExistingInvoice | null,
  stored: { lines: Map<string, StoredLine[]>; notes: Map<string, StoredNoteLine[][]> },
  options: MonthCloseOptions,
): TenantChange {
  const oldLines = existing && existing.status !== 'void' ? billedLines(stored.lines.get(existing.id) ?? []) : [];
  const change: TenantChange = {
    tenant_id: billing.tenantId,
    tenant_slug: billing.slug,
    action: 'would_create',
    invoice_status: existing?.status ?? null,
    currency: quote.currency,
    old_totals: existing ? totals(existing.subtotal_minor, existing.tax_minor, existing.total_minor, quote.currency) : null,
    new_totals: totals(quote.subtotalMinor, quote.taxMinor, quote.totalMinor, quote.currency),
    lines: lineChanges(oldLines, quote),
  };
  if (!existing) return change;
  if (existing.status === 'void') {
    change.action = options.reissue ? 'would_reissue' : 'void';
  } else if (existing.status === 'draft') {
    const hash = inputsHash({ ...canonicalInputs(billing.input), llm_event_count: billing.llmEventCount });
    change.action = hash === existing.inputs_hash && change.lines.length === 0 ? 'unchanged' : 'would_regenerate';
  } else {
    const billed = effectiveLines(oldLines, stored.notes.get(existing.id) ?? []);
    const adjustment = adjustmentFor(billed, quote, billing.input.tax.rate);
    change.action = adjustment ? 'would_adjust' : 'unchanged';
    if (adjustment) change.adjustment = adjustmentJson(adjustment, quote.currency);
  }
  return change;
}

type WriteOutcome = {
  kind: 'created' | 'skipped' | 'regenerated' | 'unchanged' | 'adjusted' | 'void' | 'reissued';
  invoiceId: string;
  note?: { note_id: string; number: string; total_delta: MoneyJson };
};

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

interface WriteArgs {
  billing: TenantBilling;
  quote: Quote;
  options: MonthCloseOptions;
  now: Date;
  receivables: ReceivablesSettings;
}

/**
 * A new draft with its lines and its first status row, in one statement. With `onlyIfNone` it is
 * a no-op when the tenant has any invoice for the period (void included); ON CONFLICT covers a
 * live invoice written by a concurrent close.
 */
async function insertDraft(tx: Tx, args: WriteArgs, inputs: Record<string, unknown>, hash: string, replaces: string | null, onlyIfNone: boolean): Promise<string | null> {
  const { billing, quote, options, now } = args;
  const { period } = options;
  const lines = quote.lines;
  const created = await tx.$queryRaw<{ id: string }[]>`
    WITH invoice AS (
      INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, currency, tax_rate, subtotal_minor, tax_minor, total_minor,
                                   revision, inputs, inputs_hash, llm_event_count, computed_at, last_run_id, replaces_invoice_id, created_at, updated_at)
      SELECT ${billing.tenantId}::uuid, ${period.start}::timestamptz, ${period.end}::timestamptz, 'draft', ${quote.currency},
             ${billing.input.tax.rate}::numeric, ${quote.subtotalMinor}, ${quote.taxMinor}, ${quote.totalMinor}, 1, ${JSON.stringify(inputs)}::jsonb, ${hash},
             ${billing.llmEventCount}, ${now}::timestamptz, ${options.runId}::uuid, ${replaces}::uuid, ${now}::timestamptz, ${now}::timestamptz
       WHERE NOT ${onlyIfNone} OR NOT EXISTS (SELECT 1 FROM tenant_invoices
                                              WHERE tenant_id = ${billing.tenantId}::uuid AND period_start = ${period.start}::timestamptz)
      ON CONFLICT (tenant_id, period_start) WHERE status <> 'void' DO NOTHING
      RETURNING id
    ), inserted_lines AS (
      INSERT INTO tenant_invoice_lines (invoice_id, line_no, kind, deployment_id, resource_kind, description, quantity, unit_price, amount_minor)
      SELECT invoice.id, l.ord::int, l.kind::invoice_line_kind, l.deployment_id, l.resource_kind, l.description, l.quantity, l.unit_price, l.amount_minor
        FROM invoice,
             unnest(${lines.map((l) => l.kind)}::text[], ${lines.map((l) => l.deploymentId)}::uuid[], ${lines.map((l) => l.resourceKind)}::text[],
                    ${lines.map((l) => l.description)}::text[], ${lines.map((l) => l.quantity)}::numeric[], ${lines.map((l) => l.unitPrice)}::numeric[],
                    ${lines.map((l) => l.amountMinor)}::bigint[])
             WITH ORDINALITY AS l(kind, deployment_id, resource_kind, description, quantity, unit_price, amount_minor, ord)
    ), first_status AS (
      INSERT INTO invoice_status_changes (invoice_id, from_status, to_status, actor, reason, at)
      SELECT invoice.id, NULL, 'draft', ${options.requestedBy}, ${replaces ? `reissue of void invoice ${replaces}` : 'month close'}, ${now}::timestamptz FROM invoice
    )
    SELECT id::text FROM invoice`;
  return created[0]?.id ?? null;
}

async function writeTenantInvoice(prisma: PrismaClient, args: WriteArgs): Promise<WriteOutcome> {
  const { billing, quote, options, now } = args;
  const { period } = options;
  const scope = options.scope ?? 'all';
  const inputs = { ...canonicalInputs(billing.input), llm_event_count: billing.llmEventCount };
  const hash = inputsHash(inputs);

  return prisma.$transaction(
    async (tx): Promise<WriteOutcome> => {
      // Two closes of the same period (two processes, or a retried job beside a live one) queue here.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`month-close:${billing.tenantId}:${period.key}`}, 0))`;
      // The common case first: no invoice yet, one statement.
      if (scope === 'all') {
        const created = await insertDraft(tx, args, inputs, hash, null, true);
        if (created) return { kind: 'created', invoiceId: created };
      }

      const existing = (await liveInvoices(tx, [billing.tenantId], period)).get(billing.tenantId);
      if (!existing) throw new Error('invoice vanished while locked');
      await tx.$executeRaw`SELECT 1 FROM tenant_invoices WHERE id = ${existing.id}::uuid FOR UPDATE`;

      if (existing.status === 'void') {
        if (!(options.force && options.reissue && scope === 'all')) return { kind: 'void', invoiceId: existing.id };
        const created = await insertDraft(tx, args, inputs, hash, existing.id, false);
        if (!created) throw new Error('a live invoice appeared while locked');
        return { kind: 'reissued', invoiceId: created };
      }
      if (!options.force) return { kind: 'skipped', invoiceId: existing.id };
      if (existing.status === 'draft') return regenerateDraft(tx, args, existing, inputs, hash);
      if (scope === 'drafts') return { kind: 'skipped', invoiceId: existing.id };
      return adjustIssuedInvoice(tx, args, existing, hash);
    },
    { timeout: 60_000, maxWait: 30_000 },
  );
}

/** A draft is recomputed in place, as a new revision, only when its inputs or amounts changed. */
async function regenerateDraft(tx: Tx, args: WriteArgs, existing: ExistingInvoice, inputs: Record<string, unknown>, hash: string): Promise<WriteOutcome> {
  const { quote, options, now } = args;
  if (existing.last_run_id === options.runId) return { kind: 'regenerated', invoiceId: existing.id };
  const previous = await tx.tenantInvoiceLine.findMany({ where: { invoiceId: existing.id }, orderBy: { lineNo: 'asc' } });
  const sameAmounts =
    previous.length === quote.lines.length &&
    previous.every((l, i) => l.amountMinor === quote.lines[i]!.amountMinor && l.description === quote.lines[i]!.description);
  if (hash === existing.inputs_hash && sameAmounts) return { kind: 'unchanged', invoiceId: existing.id };

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
      taxRate: args.billing.input.tax.rate,
      subtotalMinor: quote.subtotalMinor,
      taxMinor: quote.taxMinor,
      totalMinor: quote.totalMinor,
      revision,
      inputs: inputs as object,
      inputsHash: hash,
      llmEventCount: args.billing.llmEventCount,
      computedAt: now,
      lastRunId: options.runId,
      updatedAt: now,
    },
  });
  return { kind: 'regenerated', invoiceId: existing.id };
}

/**
 * An issued or paid invoice never changes: when the new quote differs from the invoice plus its
 * notes, the difference is issued as an adjustment note (own gap-free number, reason, lines,
 * GST delta) and queued for finance in the same transaction.
 */
async function adjustIssuedInvoice(tx: Tx, args: WriteArgs, existing: ExistingInvoice, hash: string): Promise<WriteOutcome> {
  const { billing, quote, options, now, receivables } = args;
  const currency = quote.currency;
  const sameRun = await tx.adjustmentNote.findFirst({ where: { invoiceId: existing.id, runId: options.runId } });
  if (sameRun) return { kind: 'adjusted', invoiceId: existing.id, note: { note_id: sameRun.id, number: sameRun.number, total_delta: moneyJson(sameRun.totalDeltaMinor, currency) } };

  const { lines, notes } = await linesOf(tx, [existing.id]);
  const adjustment = adjustmentFor(effectiveLines(billedLines(lines.get(existing.id) ?? []), notes.get(existing.id) ?? []), quote, billing.input.tax.rate);
  if (!adjustment) return { kind: 'unchanged', invoiceId: existing.id };
  if (!options.reason) throw new ValidationError({ field: 'reason', message: 'an adjustment note needs a reason' });

  const invoice = await tx.tenantInvoice.findUniqueOrThrow({ where: { id: existing.id }, include: { tenant: true } });
  const number = await nextDocumentNumber(tx, 'adjustment_note', receivables.notePrefix, now);
  const party = billedTo(invoice.tenant);
  const note = await tx.adjustmentNote.create({
    data: {
      invoiceId: existing.id,
      tenantId: billing.tenantId,
      periodStart: options.period.start,
      number,
      currency,
      reason: options.reason,
      taxRate: billing.input.tax.rate,
      subtotalDeltaMinor: adjustment.subtotalDelta,
      taxDeltaMinor: adjustment.taxDelta,
      totalDeltaMinor: adjustment.totalDelta,
      inputs: { ...canonicalInputs(billing.input), llm_event_count: billing.llmEventCount } as object,
      inputsHash: hash,
      runId: options.runId,
      createdBy: options.requestedBy,
      issuedAt: now,
      billedTo: party as object,
      supplier: receivables.supplier as object,
      lines: {
        create: adjustment.lines.map((l, i) => ({
          lineNo: i + 1,
          lineKey: l.line_key,
          kind: l.kind as QuoteLine['kind'],
          deploymentId: l.deployment_id,
          resourceKind: l.resource_kind,
          description: l.description,
          quantity: l.quantity,
          unitPrice: l.unit_price,
          oldAmountMinor: l.old_amount,
          newAmountMinor: l.new_amount,
          deltaMinor: l.delta,
        })),
      },
    },
  });
  await recordDelivery(tx, receivables, {
    documentType: 'adjustment_note',
    documentId: note.id,
    version: NOTE_VERSION,
    invoiceId: existing.id,
    tenantId: billing.tenantId,
    payload: adjustmentNotePayload({
      id: note.id,
      invoiceId: existing.id,
      number,
      tenantId: billing.tenantId,
      billedTo: party,
      periodStart: options.period.start,
      currency,
      issuedAt: now,
      dueAt: addDays(now, receivables.paymentTermsDays, { in: utc }),
      taxRate: billing.input.tax.rate,
      subtotalMinor: adjustment.subtotalDelta,
      taxMinor: adjustment.taxDelta,
      lines: adjustment.lines.map((l) => ({
        kind: l.kind,
        description: l.description,
        deploymentId: l.deployment_id,
        resourceKind: l.resource_kind,
        quantity: l.quantity,
        unitPrice: l.unit_price,
        amountMinor: l.delta,
      })),
    }),
  });
  return { kind: 'adjusted', invoiceId: existing.id, note: { note_id: note.id, number, total_delta: moneyJson(adjustment.totalDelta, currency) } };
}
