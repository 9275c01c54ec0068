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
import { addDays } from 'date-fns/addDays';
import { utc } from '@date-fns/utc';
import { Prisma } from '../generated/prisma/client.ts';
import { COPY_NULL, copyNullable, copyText, newRowId } from '../platform/copy.ts';
import { inPgTransaction, sqlOf, type PrismaClient, type Sql, type Tx } from '../platform/database.ts';
import { config } from '../platform/config.ts';
import { ValidationError } from '../platform/errors.ts';
import { moneyJson, type MoneyJson } from '../money/money.ts';
import { adjustmentNotePayload } from '../receivables/payload.ts';
import { billedTo } from '../receivables/parties.ts';
import { NOTE_VERSION, recordDelivery } from '../receivables/outbox.ts';
import { receivablesSettings, type ReceivablesSettings } from '../receivables/settings.ts';
import { adjustmentFor, billedLine, effectiveLines, lineKey, type Adjustment, type BilledLine } from './adjustment.ts';
import { billableTenantIds, loadTenantBilling, type TenantBilling } from './billing-inputs.ts';
import { nextDocumentNumber } from './document-numbers.ts';
import { lineJson } from './invoices.ts';
import { hasEnded, type Period } from './period.ts';
import { canonicalInputsJson, computeQuote, type Quote, type QuoteLine } from './quote-engine.ts';

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
  /** Chunks closed at once by closeMonth (each holds one connection); keep below the pool size. */
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

/** A stored invoice line: a billed line with its invoice and number. */
type StoredLine = BilledLine & { invoice_id: string; line_no: number };

/** A stored adjustment note line: a line's description and its delta. */
type StoredNoteLine = Omit<BilledLine, 'amount'> & { invoice_id: string; note_id: string; line_key: string; delta: bigint };

export async function closeMonth(deps: MonthCloseDeps, options: MonthCloseOptions): Promise<MonthCloseSummary> {
  const { prisma } = deps;
  await checkCloseOptions(prisma, deps.now, options);
  const summary = emptySummary(options);
  const tenantIds = await tenantsToClose(prisma, options);
  summary.tenants = tenantIds.length;
  await addLateUsage(prisma, options, summary);

  const chunkSize = deps.chunkSize ?? 500;
  let done = 0;
  deps.onProgress?.({ done, total: tenantIds.length });
  const chunks = Array.from({ length: Math.ceil(tenantIds.length / chunkSize) }, (_, i) => tenantIds.slice(i * chunkSize, (i + 1) * chunkSize));
  // Two lanes: one chunk's queries run in PostgreSQL while the other's quotes are computed here.
  // Chunks hold disjoint tenants, so their locks never meet.
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      addOutcomes(summary, await closeChunk(deps, options, chunk));
      done += chunk.length;
      deps.onProgress?.({ done, total: tenantIds.length });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 2) }, lane));
  await refreshWrittenStatistics(prisma, summary, deps.logger);
  return finishSummary(summary);
}

/**
 * After a bulk write (a chunk's worth of invoices or more) the planner's statistics of the tables a
 * close writes are refreshed, as after any bulk load: until autovacuum's next pass, the queries that
 * follow (a re-run, a forced or dry run, the issue job, the invoice list) would plan with the counts
 * from before the close (100,000 tenants: the forced run's line lookups scanned every line, 136 ms
 * a chunk). ANALYZE samples ~30,000 rows a table and blocks no reader or writer; a failure (a role
 * that does not own the tables) is logged and never fails the close. Only the columns queries select
 * these tables by (the row counts come with any ANALYZE): 10,000 tenants, 53 ms instead of 220-245
 * for every column; autovacuum's next pass does the rest.
 */
export async function refreshWrittenStatistics(prisma: PrismaClient, summary: Pick<MonthCloseSummary, 'created' | 'regenerated' | 'reissued'>, logger?: Logger): Promise<void> {
  if (summary.created + summary.regenerated + summary.reissued < 500) return;
  try {
    await prisma.$executeRawUnsafe('ANALYZE tenant_invoices (tenant_id, period_start, status, created_at), tenant_invoice_lines (invoice_id), invoice_status_changes (invoice_id)');
  } catch (error) {
    logger?.warn({ err: error }, 'could not refresh the statistics of the invoice tables after a close');
  }
}

/** Refusals that happen before anything is written (422 naming the field). */
export async function checkCloseOptions(prisma: PrismaClient, now: Date, options: MonthCloseOptions): Promise<void> {
  const { period } = options;
  const scope = options.scope ?? 'all';
  if (!hasEnded(period, now)) {
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
}

export function emptySummary(options: MonthCloseOptions): MonthCloseSummary {
  return {
    run_id: options.runId,
    period: options.period.key,
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
}

/** The tenants a close looks at, in tenant id order (the order chunks are cut in). */
export async function tenantsToClose(prisma: PrismaClient, options: MonthCloseOptions): Promise<string[]> {
  const recompute = options.force || options.dryRun;
  return (options.scope ?? 'all') === 'drafts'
    ? draftTenantIds(prisma, options.period, options.tenantId)
    : billableTenantIds(prisma, options.period, { tenantId: options.tenantId, includeInvoiced: recompute });
}

/** Late usage is measured before anything is written, so it says what the run found. */
export async function addLateUsage(prisma: PrismaClient, options: MonthCloseOptions, summary: MonthCloseSummary): Promise<void> {
  if ((options.scope ?? 'all') !== 'all') return;
  summary.late_usage = await lateUsage(prisma, options.period, options.tenantId);
  summary.late_usage_events = summary.late_usage.reduce((sum, l) => sum + l.events, 0);
}

/** Adds a chunk's outcomes (counts, failures, notes, dry-run changes) to the run's summary. */
export function addOutcomes(summary: MonthCloseSummary, part: ChunkOutcomes): void {
  for (const key of OUTCOME_COUNTS) summary[key] += part[key];
  summary.failures.push(...part.failures);
  summary.adjustment_notes.push(...part.adjustment_notes);
  if (part.changes) (summary.changes ??= []).push(...part.changes);
}

export function finishSummary(summary: MonthCloseSummary): MonthCloseSummary {
  summary.changes?.sort((a, b) => a.tenant_slug.localeCompare(b.tenant_slug));
  summary.failures.sort((a, b) => (a.tenant_slug ?? a.tenant_id).localeCompare(b.tenant_slug ?? b.tenant_id));
  summary.adjustment_notes.sort((a, b) => a.number.localeCompare(b.number));
  return summary;
}

const OUTCOME_COUNTS = ['created', 'skipped', 'regenerated', 'unchanged', 'adjusted', 'reissued', 'void_left_alone', 'failed'] as const;

/** What one chunk did: the summary's per-tenant part. */
export type ChunkOutcomes = Pick<MonthCloseSummary, (typeof OUTCOME_COUNTS)[number] | 'failures' | 'adjustment_notes' | 'changes'>;

export function emptyOutcomes(dryRun: boolean): ChunkOutcomes {
  return { created: 0, skipped: 0, regenerated: 0, unchanged: 0, adjusted: 0, reissued: 0, void_left_alone: 0, failed: 0, failures: [], adjustment_notes: [], ...(dryRun ? { changes: [] } : {}) };
}

/**
 * Called inside the chunk's transaction with its outcomes (the fan-out records the chunk as done in
 * the same commit as its invoices). Returning false rolls the chunk back: someone else did it.
 */
export type ChunkRecorder = (sql: Sql, outcomes: ChunkOutcomes) => Promise<boolean>;

/**
 * Closes a chunk of tenants (hundreds): loads their inputs with a fixed number of queries, computes
 * each quote in memory, and writes the chunk in ONE transaction with a few set-based statements.
 * If that transaction fails, the chunk is written again tenant by tenant, so one bad tenant is
 * reported by name and does not stop the others.
 */
export async function closeChunk(deps: MonthCloseDeps, options: MonthCloseOptions, tenantIds: string[], record?: ChunkRecorder): Promise<ChunkOutcomes> {
  const { prisma } = deps;
  const { period } = options;
  const outcomes = emptyOutcomes(options.dryRun);
  const recompute = options.force || options.dryRun;
  const failed = (tenantId: string, slug: string | null, error: unknown) => {
    outcomes.failed += 1;
    outcomes.failures.push({ tenant_id: tenantId, tenant_slug: slug, error: (error as Error).message });
    deps.logger?.error({ err: error, tenantId, period: period.key }, 'month close failed for tenant');
  };

  const existing = await liveInvoices(sqlOf(prisma), tenantIds, period);
  // Without force an existing invoice is skipped before anything is computed for it.
  const toCompute = recompute ? tenantIds : tenantIds.filter((t) => !existing.has(t));
  outcomes.skipped += tenantIds.length - toCompute.length;
  const unloadable = new Set<string>();
  const billing = await loadChunkBilling(prisma, toCompute, period, failed, unloadable);

  if (options.dryRun) {
    const stored = await linesOf(sqlOf(prisma), [...existing.values()].map((e) => e.id));
    for (const tenantId of toCompute.filter((t) => !unloadable.has(t))) {
      const tenantBilling = billing.get(tenantId);
      try {
        if (!tenantBilling) throw new Error('tenant billing inputs could not be loaded');
        const change = previewChange(tenantBilling, computeQuote(tenantBilling.input), existing.get(tenantId) ?? null, stored, options);
        // Listed only when a force would change something: an unchanged tenant is counted, not
        // listed (at 100,000 tenants the list would be the whole ledger, held in memory and stored).
        if (change.action !== 'unchanged') outcomes.changes!.push(change);
        count(outcomes, change.action);
      } catch (error) {
        failed(tenantId, tenantBilling?.slug ?? null, error);
      }
    }
    if (record) await record(sqlOf(prisma), outcomes);
    return outcomes;
  }

  const receivables = deps.receivables ?? receivablesSettings(config());
  // Quotes are pure: a tenant whose quote cannot be computed fails alone, before any write.
  const quoted: WriteArgs[] = [];
  for (const tenantId of toCompute.filter((t) => !unloadable.has(t))) {
    const tenantBilling = billing.get(tenantId);
    try {
      if (!tenantBilling) throw new Error('tenant billing inputs could not be loaded');
      quoted.push({ billing: tenantBilling, quote: computeQuote(tenantBilling.input), options, now: deps.now, receivables });
    } catch (error) {
      failed(tenantId, tenantBilling?.slug ?? null, error);
    }
  }

  const write = async (sql: Sql, tx: Tx | null) => {
    const chunkOutcomes = structuredClone(outcomes);
    await writeChunk(sql, tx, quoted, chunkOutcomes);
    if (record && !(await record(sql, chunkOutcomes))) throw new ChunkAlreadyRecorded();
    return chunkOutcomes;
  };
  try {
    // On a node-postgres connection when every tenant takes a set-based path (the common case);
    // in a Prisma transaction when one needs the single-tenant code (a note, a reissue), as read
    // before the chunk's locks (an invoice that changed since sends it there too).
    const setBased = quoted.every((a) => setBasedPath(existing.get(a.billing.tenantId), options) !== null);
    const fast = setBased
      ? await inPgTransaction(prisma, (sql) => write(sql, null), { statementTimeoutMs: 300_000 }).catch((error: unknown) => {
          if (error instanceof NeedsPrismaTransaction) return undefined;
          throw error;
        })
      : undefined;
    if (fast) return fast.value;
    return await prisma.$transaction((tx) => write(sqlOf(tx), tx), { timeout: 300_000, maxWait: 60_000 });
  } catch (error) {
    if (error instanceof ChunkAlreadyRecorded) throw error;
    deps.logger?.warn({ err: error, period: period.key, tenants: quoted.length }, 'chunk write failed; writing its tenants one by one');
  }

  // The slow path: each tenant in its own transaction, as before chunks existed.
  for (const args of quoted) {
    try {
      const outcome = await writeTenantInvoice(prisma, args);
      count(outcomes, outcome.kind);
      if (outcome.note) outcomes.adjustment_notes.push({ tenant_id: args.billing.tenantId, tenant_slug: args.billing.slug, invoice_id: outcome.invoiceId, ...outcome.note });
    } catch (error) {
      failed(args.billing.tenantId, args.billing.slug, error);
    }
  }
  if (record && !(await record(sqlOf(prisma), outcomes))) throw new ChunkAlreadyRecorded();
  return outcomes;
}

/**
 * The chunk's inputs in one round of queries; when that fails (a tenant without a tax profile, say),
 * tenant by tenant, so the tenant at fault is reported by name and the others are still closed.
 */
async function loadChunkBilling(
  prisma: PrismaClient,
  tenantIds: string[],
  period: Period,
  failed: (tenantId: string, slug: string | null, error: unknown) => void,
  unloadable: Set<string>,
): Promise<Map<string, TenantBilling>> {
  try {
    return await loadTenantBilling(prisma, tenantIds, period);
  } catch {
    const billing = new Map<string, TenantBilling>();
    for (const tenantId of tenantIds) {
      try {
        const one = (await loadTenantBilling(prisma, [tenantId], period)).get(tenantId);
        if (one) billing.set(tenantId, one);
      } catch (error) {
        const tenant = await prisma.tenant.findUnique({ where: { id: tenantId }, select: { slug: true } });
        failed(tenantId, tenant?.slug ?? null, error);
        unloadable.add(tenantId);
      }
    }
    return billing;
  }
}

/** A chunk on a node-postgres connection met a tenant that needs the Prisma code: it is written again in a Prisma transaction. */
class NeedsPrismaTransaction extends Error {}

/** A re-delivered chunk whose outcomes another delivery already recorded. */
export class ChunkAlreadyRecorded extends Error {
  constructor() {
    super('this chunk was already recorded by another delivery');
  }
}

function count(summary: ChunkOutcomes, kind: TenantOutcomeKind): void {

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

/** Per tenant, its live invoice for the period, or else its latest void one. */
async function liveInvoices(sql: Sql, tenantIds: string[], period: Period): Promise<Map<string, ExistingInvoice>> {
  type Row = Omit<ExistingInvoice, 'subtotal_minor' | 'tax_minor' | 'total_minor'> & { subtotal_minor: string; tax_minor: string; total_minor: string };
  // One index probe per tenant, whatever the statistics say. The period's invoices are written by
  // this very close, so its statistics are stale while it runs: `tenant_id = ANY(...)` was planned
  // as a scan of the whole period (100,000 tenants: 123 ms a chunk, the close quadratic); this is 2 ms.
  //   Nested Loop
  //     ->  Function Scan on unnest t
  //     ->  Limit -> Sort -> Bitmap Heap Scan on tenant_invoices i
  //           ->  Bitmap Index Scan on tenant_invoices_tenant_id_period_start_idx
  //                 Index Cond: ((tenant_id = t.id) AND (period_start = $2))
  const rows = await sql.rows<Row>(Prisma.sql`
    SELECT i.id::text, t.id::text AS tenant_id, i.status::text AS status, i.revision, i.last_run_id::text,
           i.subtotal_minor::text, i.tax_minor::text, i.total_minor::text, i.inputs_hash, i.created_at
      FROM unnest(${tenantIds}::uuid[]) AS t(id)
     CROSS JOIN LATERAL (SELECT * FROM tenant_invoices i
                          WHERE i.tenant_id = t.id AND i.period_start = ${period.start}::timestamptz
                          ORDER BY (i.status = 'void'), i.created_at DESC LIMIT 1) i`);
  return new Map(
    rows.map((r) => [r.tenant_id, { ...r, subtotal_minor: BigInt(r.subtotal_minor), tax_minor: BigInt(r.tax_minor), total_minor: BigInt(r.total_minor) }]),
  );
}

async function linesOf(
  sql: Sql,
  invoiceIds: string[],
  options: { notes?: boolean } = {},
): Promise<{ lines: Map<string, StoredLine[]>; notes: Map<string, StoredNoteLine[][]> }> {
  const lines = new Map<string, StoredLine[]>();
  const notes = new Map<string, StoredNoteLine[][]>();
  if (invoiceIds.length === 0) return { lines, notes };
  const rows = (
    await sql.rows<Omit<StoredLine, 'amount'> & { amount_minor: string }>(Prisma.sql`
      SELECT invoice_id::text, kind::text AS kind, deployment_id::text, resource_kind, description, quantity::text, unit_price::text, amount_minor::text, line_no
        FROM tenant_invoice_lines WHERE invoice_id = ANY(${invoiceIds}::uuid[]) ORDER BY invoice_id, line_no`)
  ).map(({ amount_minor, ...r }) => ({ ...r, amount: BigInt(amount_minor) }));
  for (const r of rows) {
    const list = lines.get(r.invoice_id);
    if (list) list.push(r);
    else lines.set(r.invoice_id, [r]);
  }
  if (options.notes === false) return { lines, notes };
  const noteRows = (
    await sql.rows<Omit<StoredNoteLine, 'delta'> & { delta: string }>(Prisma.sql`
      SELECT n.invoice_id::text, l.note_id::text, l.line_key, l.kind::text AS kind, l.deployment_id::text, l.resource_kind, l.description,
             l.quantity::text, l.unit_price::text, l.delta_minor::text AS delta
        FROM adjustment_notes n JOIN adjustment_note_lines l ON l.note_id = n.id
       WHERE n.invoice_id = ANY(${invoiceIds}::uuid[]) ORDER BY n.invoice_id, n.issued_at, n.number, l.line_no`)
  ).map((r) => ({ ...r, delta: BigInt(r.delta) }));
  for (const r of noteRows) {
    const perInvoice = notes.get(r.invoice_id) ?? [];
    const last = perInvoice.at(-1);
    if (last && last[0]!.note_id === r.note_id) last.push(r);
    else perInvoice.push([r]);
    notes.set(r.invoice_id, perInvoice);
  }
  return { lines, notes };
}

function totals(subtotal: bigint, tax: bigint, total: bigint, currency: string): Totals {
  return { subtotal: moneyJson(subtotal, currency), tax: moneyJson(tax, currency), total: moneyJson(total, currency) };
}

function lineChanges(oldLines: BilledLine[], quote: Quote): LineChange[] {
  const newLines = quote.lines.map(billedLine);
  // Each line's key once (the first line of a key wins, as a find would): a dry run compares every tenant.
  const byKey = (lines: BilledLine[]) => {
    const map = new Map<string, BilledLine>();
    for (const l of lines) {
      const key = lineKey(l);
      if (!map.has(key)) map.set(key, l);
    }
    return map;
  };
  const oldByKey = byKey(oldLines);
  const newByKey = byKey(newLines);
  const changes: LineChange[] = [];
  for (const key of new Set([...oldByKey.keys(), ...newByKey.keys()])) {
    const before = oldByKey.get(key);
    const after = newByKey.get(key);
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
  const oldLines = existing && existing.status !== 'void' ? (stored.lines.get(existing.id) ?? []) : [];
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
    const { hash } = canonicalInputsJson(billing.input, billing.llmEventCount);
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
async function insertDraft(tx: Tx, args: WriteArgs, inputs: string, hash: string, replaces: string | null, onlyIfNone: boolean): Promise<string | null> {
  const { billing, quote, options, now } = args;
  const { period } = options;
  const lines = quote.lines;
  const created = await tx.$queryRaw<{ id: string }[]>`
    WITH invoice AS (
      INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, currency, tax_rate, subtotal_minor, tax_minor, total_minor,
                                   revision, inputs, inputs_hash, llm_event_count, computed_at, last_run_id, replaces_invoice_id, created_at, updated_at)
      SELECT ${billing.tenantId}::uuid, ${period.start}::timestamptz, ${period.end}::timestamptz, 'draft', ${quote.currency},
             ${billing.input.tax.rate}::numeric, ${quote.subtotalMinor}, ${quote.taxMinor}, ${quote.totalMinor}, 1, ${inputs}::json, ${hash},
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

/**
 * One chunk's writes inside its transaction. Locks first (all of the chunk's (tenant, period) keys in
 * one statement, in key order, so two chunks or a chunk and a single-tenant writer never deadlock),
 * then the chunk's invoices as they are under the locks, then:
 * - tenants without an invoice: invoices, lines and first status rows, three COPYs;
 * - forced drafts whose inputs or amounts changed: revision rows, lines replaced, invoices updated,
 *   four set-based statements;
 * - the rare rest (issued/paid → adjustment note, void → left alone or reissued, an invoice that
 *   appeared since the chunk was read): tenant by tenant, with the single-tenant code.
 * In a Prisma transaction (a chunk that has some of the rare rest) there is no COPY, and every
 * tenant takes the single-tenant code.
 */
async function writeChunk(sql: Sql, tx: Tx | null, quoted: WriteArgs[], outcomes: ChunkOutcomes): Promise<void> {
  if (quoted.length === 0) return;
  const { options, now } = quoted[0]!;
  const { period } = options;
  const ids = quoted.map((a) => a.billing.tenantId);
  await sql.rows(Prisma.sql`
    SELECT COUNT(pg_advisory_xact_lock(k))::int AS locked
      FROM (SELECT hashtextextended('month-close:' || t::text || ':' || ${period.key}, 0) AS k FROM unnest(${ids}::uuid[]) t ORDER BY 1) keys`);
  const existing = await liveInvoices(sql, ids, period);

  const inserts: { args: WriteArgs; inputs: string; hash: string }[] = [];
  const drafts: { args: WriteArgs; invoice: ExistingInvoice; inputs: string; hash: string }[] = [];
  const rare: WriteArgs[] = [];
  for (const args of quoted) {
    const invoice = existing.get(args.billing.tenantId);
    // In a Prisma transaction (no COPY) every tenant takes the single-tenant code.
    const path = sql.copy ? setBasedPath(invoice, options) : null;
    if (path === null) {
      rare.push(args);
      continue;
    }
    const { json, hash } = canonicalInputsJson(args.billing.input, args.billing.llmEventCount);
    if (path === 'insert') inserts.push({ args, inputs: json, hash });
    else drafts.push({ args, invoice: invoice!, inputs: json, hash });
  }
  if (rare.length > 0 && !tx) throw new NeedsPrismaTransaction();

  if (inserts.length > 0) {
    await insertDrafts(sql, inserts, options, now);
    outcomes.created += inserts.length;
  }

  if (drafts.length > 0) {
    // Issuing or voiding a draft locks its row, not the close's key: lock the drafts and keep the
    // ones that are still drafts; any other goes the single-tenant way.
    const stillDraft = new Set(
      (await sql.rows<{ id: string }>(Prisma.sql`
        SELECT id::text FROM tenant_invoices WHERE id = ANY(${drafts.map((d) => d.invoice.id)}::uuid[]) AND status = 'draft' ORDER BY id FOR UPDATE`)).map((r) => r.id),
    );
    const { lines } = await linesOf(sql, [...stillDraft], { notes: false });
    const changed: typeof drafts = [];
    for (const d of drafts) {
      if (!stillDraft.has(d.invoice.id)) rare.push(d.args);
      // A re-delivered forced run never bumps a revision twice.
      else if (d.invoice.last_run_id === options.runId) outcomes.regenerated += 1;
      else if (d.hash === d.invoice.inputs_hash && sameAmounts(lines.get(d.invoice.id) ?? [], d.args.quote.lines)) outcomes.unchanged += 1;
      else changed.push(d);
    }
    if (changed.length > 0) {
      await regenerateDrafts(sql, changed, options, now);
      outcomes.regenerated += changed.length;
    }
  }

  if (rare.length > 0 && !tx) throw new NeedsPrismaTransaction();
  for (const args of rare) {
    const outcome = await writeTenantLocked(tx!, args);
    count(outcomes, outcome.kind);
    if (outcome.note) outcomes.adjustment_notes.push({ tenant_id: args.billing.tenantId, tenant_slug: args.billing.slug, invoice_id: outcome.invoiceId, ...outcome.note });
  }
}

/**
 * How a chunk writes a tenant, from its invoice for the period: a new invoice or a forced draft
 * set-based, anything else (a note, a void, a reissue, a skip) with the single-tenant code (null).
 */
function setBasedPath(invoice: ExistingInvoice | undefined, options: MonthCloseOptions): 'insert' | 'draft' | null {
  if (!invoice) return (options.scope ?? 'all') === 'all' ? 'insert' : null;
  return invoice.status === 'draft' && options.force ? 'draft' : null;
}

function sameAmounts(previous: { amount: bigint; description: string }[], lines: QuoteLine[]): boolean {
  return previous.length === lines.length && previous.every((l, i) => l.amount === lines[i]!.amountMinor && l.description === lines[i]!.description);
}

/**
 * Regenerated drafts' new amounts go to PostgreSQL as ONE JSON text (read back with
 * json_to_recordset by the UPDATE), not as parallel array parameters: node-postgres escapes every
 * array element in JavaScript. The stored inputs are already JSON and are spliced in as they are.
 * Amounts travel as strings (JSON has no 64-bit integers).
 */
function invoicesJson(items: { owner: string; args: WriteArgs; inputs: string; hash: string }[]): string {
  return `[${items
    .map(
      ({ owner, args, inputs, hash }) =>
        `{"owner":${JSON.stringify(owner)},"currency":${JSON.stringify(args.quote.currency)},"tax_rate":${JSON.stringify(args.billing.input.tax.rate)},` +
        `"subtotal_minor":"${args.quote.subtotalMinor}","tax_minor":"${args.quote.taxMinor}","total_minor":"${args.quote.totalMinor}",` +
        `"inputs_hash":"${hash}","llm_event_count":${args.billing.llmEventCount},"inputs":${inputs}}`,
    )
    .join(',')}]`;
}

const INVOICE_RECORD = Prisma.sql`owner uuid, currency text, tax_rate numeric, subtotal_minor bigint, tax_minor bigint, total_minor bigint,
                                  inputs_hash text, llm_event_count int, inputs json`;

const COPY_INVOICES = `COPY tenant_invoices (id, tenant_id, period_start, period_end, status, currency, tax_rate, subtotal_minor, tax_minor, total_minor,
                                            revision, inputs, inputs_hash, llm_event_count, computed_at, last_run_id, created_at, updated_at) FROM STDIN`;
const COPY_LINES = `COPY tenant_invoice_lines (id, invoice_id, line_no, kind, deployment_id, resource_kind, description, quantity, unit_price, amount_minor) FROM STDIN`;
const COPY_STATUS_CHANGES = `COPY invoice_status_changes (id, invoice_id, from_status, to_status, actor, reason, at) FROM STDIN`;

/** Quote lines of invoices as COPY rows (COPY_LINES), numbered from 1 per invoice. */
function lineCopyRows(items: { invoiceId: string; lines: QuoteLine[] }[]): string {
  let rows = '';
  for (const { invoiceId, lines } of items) {
    lines.forEach((l, i) => {
      rows +=
        `${newRowId()}\t${invoiceId}\t${i + 1}\t${l.kind}\t${l.deploymentId ?? COPY_NULL}\t${copyNullable(l.resourceKind)}\t` +
        `${copyText(l.description)}\t${l.quantity}\t${l.unitPrice}\t${l.amountMinor}\n`;
    });
  }
  return rows;
}

/**
 * New drafts, their lines and their first status rows for many tenants, by COPY (three statements),
 * with ids made here. Called under the chunk's locks, having found none of these tenants with an
 * invoice for the period: a live invoice written all the same (by a writer that does not take the
 * lock) breaks the partial unique index, and the chunk rolls back and is written tenant by tenant.
 */
async function insertDrafts(sql: Sql, items: { args: WriteArgs; inputs: string; hash: string }[], options: MonthCloseOptions, now: Date): Promise<void> {
  const { period } = options;
  const at = now.toISOString();
  const fixed = `${period.start.toISOString()}\t${period.end.toISOString()}\tdraft\t`;
  const run = `\t${at}\t${options.runId}\t${at}\t${at}\n`;
  const actor = copyText(options.requestedBy);
  let invoices = '';
  let statusChanges = '';
  const lines: { invoiceId: string; lines: QuoteLine[] }[] = [];
  for (const { args, inputs, hash } of items) {
    const { billing, quote } = args;
    const id = newRowId();
    invoices +=
      `${id}\t${billing.tenantId}\t${fixed}${copyText(quote.currency)}\t${billing.input.tax.rate}\t${quote.subtotalMinor}\t${quote.taxMinor}\t${quote.totalMinor}\t` +
      `1\t${copyText(inputs)}\t${hash}\t${billing.llmEventCount}${run}`;
    statusChanges += `${newRowId()}\t${id}\t${COPY_NULL}\tdraft\t${actor}\tmonth close\t${at}\n`;
    lines.push({ invoiceId: id, lines: quote.lines });
  }
  await sql.copy!(COPY_INVOICES, invoices);
  await sql.copy!(COPY_LINES, lineCopyRows(lines));
  await sql.copy!(COPY_STATUS_CHANGES, statusChanges);
}

/** Changed drafts recomputed in place, as new revisions, with four set-based statements. */
async function regenerateDrafts(
  sql: Sql,
  items: { args: WriteArgs; invoice: ExistingInvoice; inputs: string; hash: string }[],
  options: MonthCloseOptions,
  now: Date,
): Promise<void> {
  const ids = items.map((i) => i.invoice.id);
  // The revision keeps the lines it replaces, in the shape lineJson gives them.
  await sql.execute(Prisma.sql`
    INSERT INTO invoice_revisions (invoice_id, revision, previous_lines, previous_subtotal_minor, previous_tax_minor, previous_total_minor,
                                   previous_inputs_hash, forced_by, reason, forced_at)
    SELECT i.id, i.revision + 1,
           COALESCE((SELECT jsonb_agg(jsonb_build_object('line_no', l.line_no, 'kind', l.kind, 'deployment_id', l.deployment_id, 'resource_kind', l.resource_kind,
                                                         'description', l.description, 'quantity', trim_scale(l.quantity)::text,
                                                         'unit_price', trim_scale(l.unit_price)::text, 'amount_minor', l.amount_minor::text) ORDER BY l.line_no)
                       FROM tenant_invoice_lines l WHERE l.invoice_id = i.id), '[]'::jsonb),
           i.subtotal_minor, i.tax_minor, i.total_minor, i.inputs_hash, ${options.requestedBy}, ${options.reason}, ${now}::timestamptz
      FROM tenant_invoices i WHERE i.id = ANY(${ids}::uuid[])`);
  await sql.execute(Prisma.sql`DELETE FROM tenant_invoice_lines WHERE invoice_id = ANY(${ids}::uuid[])`);
  await sql.copy!(COPY_LINES, lineCopyRows(items.map((i) => ({ invoiceId: i.invoice.id, lines: i.args.quote.lines }))));
  await sql.execute(Prisma.sql`
    UPDATE tenant_invoices i
       SET currency = x.currency, tax_rate = x.tax_rate, subtotal_minor = x.subtotal_minor, tax_minor = x.tax_minor, total_minor = x.total_minor,
           revision = i.revision + 1, inputs = x.inputs, inputs_hash = x.inputs_hash, llm_event_count = x.llm_event_count,
           computed_at = ${now}::timestamptz, last_run_id = ${options.runId}::uuid, updated_at = ${now}::timestamptz
      FROM json_to_recordset(${invoicesJson(items.map((i) => ({ ...i, owner: i.invoice.id })))}::json) AS x(${INVOICE_RECORD})
     WHERE i.id = x.owner`);
}

async function writeTenantInvoice(prisma: PrismaClient, args: WriteArgs): Promise<WriteOutcome> {
  return prisma.$transaction(
    async (tx): Promise<WriteOutcome> => {
      // Two closes of the same period (two processes, or a retried job beside a live one) queue here.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`month-close:${args.billing.tenantId}:${args.options.period.key}`}, 0))`;
      return writeTenantLocked(tx, args);
    },
    { timeout: 60_000, maxWait: 30_000 },
  );
}

/** One tenant's write, with its (tenant, period) lock held by the caller's transaction. */
async function writeTenantLocked(tx: Tx, args: WriteArgs): Promise<WriteOutcome> {
  const { billing, options } = args;
  const { period } = options;
  const scope = options.scope ?? 'all';
  const { json: inputs, hash } = canonicalInputsJson(billing.input, billing.llmEventCount);
  // The common case first: no invoice yet, one statement.
  if (scope === 'all') {
    const created = await insertDraft(tx, args, inputs, hash, null, true);
    if (created) return { kind: 'created', invoiceId: created };
  }

  const existing = (await liveInvoices(sqlOf(tx), [billing.tenantId], period)).get(billing.tenantId);
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
  return adjustIssuedInvoice(tx, args, existing, inputs, hash);
}

/** A draft is recomputed in place, as a new revision, only when its inputs or amounts changed. */
async function regenerateDraft(tx: Tx, args: WriteArgs, existing: ExistingInvoice, inputs: string, hash: string): Promise<WriteOutcome> {
  const { quote, options, now } = args;
  if (existing.last_run_id === options.runId) return { kind: 'regenerated', invoiceId: existing.id };
  const previous = await tx.tenantInvoiceLine.findMany({ where: { invoiceId: existing.id }, orderBy: { lineNo: 'asc' } });
  const unchanged = hash === existing.inputs_hash && sameAmounts(previous.map((l) => ({ amount: l.amountMinor, description: l.description })), quote.lines);
  if (unchanged) return { kind: 'unchanged', invoiceId: existing.id };

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
      // Parsed and written back by Prisma: the same text (its keys in canonical order).
      inputs: JSON.parse(inputs) as object,
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
async function adjustIssuedInvoice(tx: Tx, args: WriteArgs, existing: ExistingInvoice, inputs: string, hash: string): Promise<WriteOutcome> {
  const { billing, quote, options, now, receivables } = args;
  const currency = quote.currency;
  const sameRun = await tx.adjustmentNote.findFirst({ where: { invoiceId: existing.id, runId: options.runId } });
  if (sameRun) return { kind: 'adjusted', invoiceId: existing.id, note: { note_id: sameRun.id, number: sameRun.number, total_delta: moneyJson(sameRun.totalDeltaMinor, currency) } };

  const { lines, notes } = await linesOf(sqlOf(tx), [existing.id]);
  const adjustment = adjustmentFor(effectiveLines(lines.get(existing.id) ?? [], notes.get(existing.id) ?? []), quote, billing.input.tax.rate);
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
      inputs: JSON.parse(inputs) as object,
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
