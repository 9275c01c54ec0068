// invoice-ingest: fetches one provider invoice's CSV and stores its lines.
//
// - The same CSV again (same sha256) is a no-op: nothing is rewritten, line ids stay.
// - A changed CSV REPLACES the invoice's lines as a whole, in one transaction (delete, chunked
//   INSERT ... SELECT FROM unnest joined to cloud_resources for matching, header), under a row
//   lock on the header, so concurrent ingests of one invoice serialise and a crash leaves the
//   previous set intact.
// - A CSV we cannot read (missing column, bad amount or date) changes no line: the header records
//   the row and reason in its own write (ingest_status failed) and the error is rethrown so the job
//   retries and, in the end, dead-letters.
// - A successful ingest of a new CSV queues vendor-bill-push in the same transaction.
import { performance } from 'node:perf_hooks';
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { QUEUES } from '../../jobs/catalog.ts';
import type { PrismaClient } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { csvChecksum, InvoiceCsvError, parseInvoiceCsv, sumAmountMicros, type InvoiceCostLine } from './invoice-csv.ts';
import type { ProviderClient } from './provider-client.ts';
import { findHeader, markIngested, markRecovered, recordIngestError, replaceCostLines } from './repository.ts';
import { microsToUsd } from './usd.ts';

export interface IngestInvoiceDeps {
  prisma: PrismaClient;
  /** Queues the vendor-bill push; null when the caller pushes itself (or not at all: the benchmark). */
  boss: PgBoss | null;
  provider: ProviderClient;
  now: Date;
  logger?: Logger;
}

export interface IngestTimings {
  fetchMs: number;
  parseMs: number;
  /** The replace transaction: delete, insert with matching, header. */
  storeMs: number;
  totalMs: number;
}

export interface IngestInvoiceOutcome {
  invoiceUuid: string;
  /** `unchanged`: the stored lines already come from this very CSV. */
  status: 'ingested' | 'unchanged';
  lineCount: number;
  matchedCount: number;
  amountMismatch: boolean;
  checksum: string;
  pushQueued: boolean;
  timings: IngestTimings;
}

/** A long invoice is a few hundred thousand rows: far more than Prisma's 5 s default transaction. */
const REPLACE_TRANSACTION = { timeout: 10 * 60_000, maxWait: 30_000 };

export async function ingestInvoice(deps: IngestInvoiceDeps, input: { invoiceUuid: string }): Promise<IngestInvoiceOutcome> {
  const { prisma, now } = deps;
  const invoiceUuid = input.invoiceUuid;
  const t0 = performance.now();
  const header = await findHeader(prisma, invoiceUuid);
  if (!header) throw new NotFoundError('provider_invoice');

  let csv: string;
  try {
    csv = await deps.provider.getInvoiceCsv(invoiceUuid);
  } catch (error) {
    await recordIngestError(prisma, invoiceUuid, `fetching the CSV failed: ${(error as Error).message}`, { markFailed: false, now });
    throw error;
  }
  const t1 = performance.now();
  const checksum = csvChecksum(csv);
  const unchanged = (h: { line_count: number | null; matched_count: number | null; amount_mismatch: boolean }): IngestInvoiceOutcome => ({
    invoiceUuid,
    status: 'unchanged',
    lineCount: h.line_count ?? 0,
    matchedCount: h.matched_count ?? 0,
    amountMismatch: h.amount_mismatch,
    checksum,
    pushQueued: false,
    timings: { fetchMs: t1 - t0, parseMs: 0, storeMs: 0, totalMs: performance.now() - t0 },
  });
  if (header.csv_checksum === checksum) {
    // The file that failed in between was fixed back to the stored one: the lines are already right.
    if (header.ingest_status !== 'ingested') await markRecovered(prisma, header.id, now);
    return unchanged(header);
  }

  let lines: InvoiceCostLine[];
  try {
    lines = parseInvoiceCsv(csv);
    checkStorable(lines);
  } catch (error) {
    if (error instanceof InvoiceCsvError) {
      await recordIngestError(prisma, invoiceUuid, error.message, { markFailed: true, now });
      deps.logger?.warn({ invoiceUuid, row: error.rowNumber, reason: error.reason }, 'invoice CSV refused; stored lines kept');
    }
    throw error;
  }
  const t2 = performance.now();
  const linesTotal = microsToUsd(sumAmountMicros(lines));

  const stored = await prisma.$transaction(async (tx) => {
    const locked = await findHeader(tx, invoiceUuid, 'update');
    if (!locked) throw new NotFoundError('provider_invoice');
    // Another ingest stored this very CSV while we were fetching it.
    if (locked.csv_checksum === checksum) return { kind: 'unchanged' as const, header: locked };
    // Delete, then insert in chunks, each line matched to its resource as it is inserted.
    const matchedCount = await replaceCostLines(tx, locked.id, lines);
    const marked = await markIngested(tx, { id: locked.id, checksum, lineCount: lines.length, matchedCount, linesTotal, now });
    const pushQueued =
      deps.boss !== null && marked.push_status === 'pending'
        ? (await deps.boss.send(QUEUES.vendorBillPush, { invoiceUuid }, { singletonKey: invoiceUuid, db: fromPrisma(tx) })) !== null
        : false;
    return { kind: 'stored' as const, matchedCount, amountMismatch: marked.amount_mismatch, pushQueued };
  }, REPLACE_TRANSACTION);
  if (stored.kind === 'unchanged') return unchanged(stored.header);

  const outcome: IngestInvoiceOutcome = {
    invoiceUuid,
    status: 'ingested',
    lineCount: lines.length,
    matchedCount: stored.matchedCount,
    amountMismatch: stored.amountMismatch,
    checksum,
    pushQueued: stored.pushQueued,
    timings: { fetchMs: t1 - t0, parseMs: t2 - t1, storeMs: performance.now() - t2, totalMs: performance.now() - t0 },
  };
  deps.logger?.info(
    { invoiceUuid, lines: outcome.lineCount, matched: outcome.matchedCount, amountMismatch: outcome.amountMismatch, linesTotal },
    outcome.amountMismatch ? 'invoice CSV stored; its lines do not sum to the invoice amount' : 'invoice CSV stored',
  );
  return outcome;
}

// hours is NUMERIC(30,12): refuse what it would round or overflow, with the row, rather than store it altered.
const STORABLE_HOURS = /^-?\d{1,18}(\.\d{1,12})?$/;

function checkStorable(lines: readonly InvoiceCostLine[]): void {
  for (const line of lines) {
    if (line.hours !== null && !STORABLE_HOURS.test(line.hours.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''))) {
      throw new InvoiceCsvError(line.rowNumber, `hours ${JSON.stringify(line.hours)} has more than 18 integer or 12 decimal digits`);
    }
  }
}
