// invoice-ingest: fetches one provider invoice's CSV and stores its lines.
//
// - The CSV is streamed: the response body is decoded, hashed and parsed as it arrives, each piece
//   turned into COPY rows at once; every 10,000 lines are COPied straight into cost_lines while
//   the next 10,000 are parsed. Each line is matched to its resource by one query per chunk over
//   the chunk's new (kind, name, period) keys (repository.ts matchResourcesSql). Memory stays
//   flat however long the invoice is.
// - It all happens in one transaction, under a row lock on the header taken first (concurrent
//   ingests of one invoice serialise), after deleting the old lines: a crash or a bad CSV rolls
//   back to the previous set intact.
// - The same CSV again (same sha256 of the decoded text) is a no-op: a first streamed pass
//   computes only the checksum; equal to the stored one, nothing is parsed or written, line ids
//   stay. Otherwise a second fetch is streamed into the table (and hashed again: if another
//   ingest stored the same file meanwhile, the transaction is rolled back as a no-op).
// - A CSV we cannot read (missing column, bad amount or date) changes no line: the header records
//   the row and reason in its own write (ingest_status failed) and the error is rethrown so the job
//   retries and, in the end, dead-letters.
// - A successful ingest of a new CSV queues vendor-bill-push in the same transaction.
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { QUEUES } from '../../jobs/catalog.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { copyRows, newRowId } from '../platform/copy.ts';
import { pgPoolOf, type PrismaClient } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { csvChecksumOfBody, csvHasher, decodeCsvText, InvoiceCsvError, readInvoiceCsvRows, type InvoiceCsvReader, type InvoiceCsvRow } from './invoice-csv.ts';
import { ProviderApiError, type ProviderClient } from './provider-client.ts';
import {
  COPY_INTO_COST_LINES,
  costLineCopyRowEnd,
  costLineCopyRowStart,
  UNMATCHED_ROW_END,
  deleteCostLinesSql,
  findHeader,
  findHeaderSql,
  markIngestedSql,
  markRecovered,
  matchResourcesSql,
  recordIngestError,
  type IngestedHeader,
  type InvoiceHeaderRow,
  type ResourceKey,
} from './repository.ts';
import { microsToUsd } from './usd.ts';

export interface IngestInvoiceDeps {
  prisma: PrismaClient;
  /** Queues the vendor-bill push; null when the caller pushes itself (or not at all: the benchmark). */
  boss: PgBoss | null;
  provider: ProviderClient;
  now: Date;
  logger?: Logger;
  /** Lines per COPY (default CHUNK_LINES); the tests use small chunks. */
  chunkLines?: number;
}

export interface IngestTimings {
  /** Checksum pass, then delete, fetch, decode + hash, parse, match and COPY into cost_lines: one stream, so one figure. */
  loadMs: number;
  /** The header (counts, checksum, total), the push queued, the commit. */
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

/** Lines per chunk: one matching query and one COPY each; two chunks at most are in memory. */
const CHUNK_LINES = 10_000;

export async function ingestInvoice(deps: IngestInvoiceDeps, input: { invoiceUuid: string }): Promise<IngestInvoiceOutcome> {
  const { prisma, now } = deps;
  const invoiceUuid = input.invoiceUuid;
  const t0 = performance.now();
  const header = await findHeader(prisma, invoiceUuid);
  if (!header) throw new NotFoundError('provider_invoice');

  // First pass: the checksum alone (streamed, ~0.1 s for 100,000 lines). The same CSV as stored
  // is a no-op without parsing a line or opening a transaction; `costs:sync --all` re-reads every
  // invoice this way.
  let precheck: string;
  try {
    precheck = await deps.provider.streamInvoiceCsv(invoiceUuid, csvChecksumOfBody);
  } catch (error) {
    if (error instanceof ProviderApiError) await recordIngestError(prisma, invoiceUuid, `fetching the CSV failed: ${error.message}`, { markFailed: false, now });
    throw error;
  }
  if (header.csv_checksum === precheck) {
    // The file that failed in between was fixed back to the stored one: the lines are already right.
    if (header.ingest_status !== 'ingested') await markRecovered(prisma, header.id, now);
    return unchangedOutcome(invoiceUuid, header, precheck, performance.now() - t0, t0);
  }

  // Second pass: the CSV is fetched again and streamed into cost_lines; its checksum is computed
  // again on the way (the provider may have changed the file in between: the one stored is the one hashed).
  const client = await pgPoolOf(prisma).connect();
  let broken: Error | undefined;
  let open = false;
  const rollback = async () => {
    if (!open) return;
    open = false;
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
  };
  try {
    await client.query('BEGIN');
    open = true;
    // The header's row lock first: a concurrent ingest of this invoice waits here, then finds our checksum.
    const [locked] = await run<InvoiceHeaderRow>(client, findHeaderSql(invoiceUuid, 'update'));
    if (!locked) throw new NotFoundError('provider_invoice');
    await run(client, deleteCostLinesSql(locked.id));

    let loaded: Loaded;
    try {
      loaded = await deps.provider.streamInvoiceCsv(invoiceUuid, (body) => streamIntoCostLines(client, locked.id, body, deps.chunkLines ?? CHUNK_LINES));
    } catch (error) {
      // Roll back first: the header's row lock must go before recordIngestError updates that row.
      await rollback();
      if (error instanceof InvoiceCsvError) {
        await recordIngestError(prisma, invoiceUuid, error.message, { markFailed: true, now });
        deps.logger?.warn({ invoiceUuid, row: error.rowNumber, reason: error.reason }, 'invoice CSV refused; stored lines kept');
      } else if (error instanceof ProviderApiError) {
        await recordIngestError(prisma, invoiceUuid, `fetching the CSV failed: ${error.message}`, { markFailed: false, now });
      }
      throw error;
    }
    const t1 = performance.now();
    const { checksum } = loaded;

    if (locked.csv_checksum === checksum) {
      // Another ingest stored this very CSV meanwhile (or the file changed back): undo the rewrite, keep the line ids.
      await rollback();
      // The file that failed in between was fixed back to the stored one: the lines are already right.
      if (locked.ingest_status !== 'ingested') await markRecovered(prisma, locked.id, now);
      return unchangedOutcome(invoiceUuid, locked, checksum, t1 - t0, t0);
    }

    const linesTotal = microsToUsd(loaded.totalMicros);
    const [marked] = await run<IngestedHeader>(
      client,
      markIngestedSql({ id: locked.id, checksum, lineCount: loaded.lineCount, matchedCount: loaded.matchedCount, linesTotal, now }),
    );
    const pushQueued =
      deps.boss !== null && marked!.push_status === 'pending'
        ? (await deps.boss.send(QUEUES.vendorBillPush, { invoiceUuid }, { singletonKey: invoiceUuid, db: { executeSql: (text, values) => client.query(text, values) } })) !== null
        : false;
    await client.query('COMMIT');
    open = false;

    const outcome: IngestInvoiceOutcome = {
      invoiceUuid,
      status: 'ingested',
      lineCount: loaded.lineCount,
      matchedCount: loaded.matchedCount,
      amountMismatch: marked!.amount_mismatch,
      checksum,
      pushQueued,
      timings: { loadMs: t1 - t0, storeMs: performance.now() - t1, totalMs: performance.now() - t0 },
    };
    deps.logger?.info(
      { invoiceUuid, lines: outcome.lineCount, matched: outcome.matchedCount, amountMismatch: outcome.amountMismatch, linesTotal },
      outcome.amountMismatch ? 'invoice CSV stored; its lines do not sum to the invoice amount' : 'invoice CSV stored',
    );
    return outcome;
  } catch (error) {
    await rollback();
    throw error;
  } finally {
    // A connection that could not even roll back is discarded rather than returned to the pool.
    client.release(broken);
  }
}

interface Loaded {
  checksum: string;
  lineCount: number;
  matchedCount: number;
  totalMicros: bigint;
}

/** The stored CSV is the one offered: nothing was written, the header's counts stand. */
function unchangedOutcome(invoiceUuid: string, header: InvoiceHeaderRow, checksum: string, loadMs: number, t0: number): IngestInvoiceOutcome {
  return {
    invoiceUuid,
    status: 'unchanged',
    lineCount: header.line_count ?? 0,
    matchedCount: header.matched_count ?? 0,
    amountMismatch: header.amount_mismatch,
    checksum,
    pushQueued: false,
    timings: { loadMs, storeMs: 0, totalMs: performance.now() - t0 },
  };
}

/**
 * Body -> decoded text (hashed) -> checked rows -> COPY rows into cost_lines, a chunk at a time.
 * Each piece of text is parsed and written as bytes at once (the rows do not outlive it), while
 * the previous chunk is stored. A row whose resource key (kind, name, period) an earlier chunk
 * resolved is written whole; the others wait for the chunk's one matching query, then follow.
 */
async function streamIntoCostLines(client: pg.PoolClient, providerInvoiceId: string, body: AsyncIterable<Uint8Array>, chunkLines: number): Promise<Loaded> {
  const hash = csvHasher();
  const matches = new ResourceMatches();
  const storable = new Set<string>();
  const rows = readInvoiceCsvRows(decodeCsvText(body, hash), (row) => checkStorable(row, storable));
  const source = copyChunks(rows, providerInvoiceId, matches, chunkLines);
  let lineCount = 0;
  let matchedCount = 0;
  let totalMicros = 0n;
  try {
    let next = source.next();
    for (;;) {
      const current = await next;
      if (current.done) break;
      next = source.next(); // parse and write ahead while this chunk is stored
      next.catch(() => {}); // awaited on the next turn; not an unhandled rejection meanwhile
      const chunk = current.value;
      await matches.resolve(client, chunk.waiting);
      let rest = '';
      for (const { start, key } of chunk.waiting) {
        if (key.rowEnd !== UNMATCHED_ROW_END) matchedCount++;
        rest += start + key.rowEnd!;
      }
      if (rest !== '') chunk.bytes.push(Buffer.from(rest));
      await copyRows(client, COPY_INTO_COST_LINES, chunk.bytes);
      lineCount += chunk.lines;
      matchedCount += chunk.matched;
      totalMicros += chunk.totalMicros;
    }
  } finally {
    await source.return(undefined).catch(() => {});
  }
  return { checksum: hash.digest('hex'), lineCount, matchedCount, totalMicros };
}

interface CopyChunk {
  /** COPY rows, complete. */
  bytes: Buffer[];
  /** Rows waiting for their key's match: the row up to its last two columns. */
  waiting: { start: string; key: ResourceKeySlot }[];
  lines: number;
  /** Of the complete rows, how many matched a resource. */
  matched: number;
  totalMicros: bigint;
}

/** The rows as chunks of `chunkLines` COPY rows (the last may be smaller); new ids: UUID v7, ordered by the millisecond they were made. */
async function* copyChunks(
  pieces: AsyncIterable<{ reader: InvoiceCsvReader; rows: InvoiceCsvRow[] }>,
  providerInvoiceId: string,
  matches: ResourceMatches,
  chunkLines: number,
): AsyncGenerator<CopyChunk> {
  let chunk: CopyChunk = { bytes: [], waiting: [], lines: 0, matched: 0, totalMicros: 0n };
  for await (const { reader, rows } of pieces) {
    // Complete rows are gathered as text per piece and turned into bytes at once.
    let text = '';
    for (const row of rows) {
      const start = costLineCopyRowStart(newRowId(), providerInvoiceId, reader, row);
      const key = matches.slot(row);
      if (key === null) text += start + UNMATCHED_ROW_END;
      else if (key.rowEnd === undefined) chunk.waiting.push({ start, key });
      else {
        if (key.rowEnd !== UNMATCHED_ROW_END) chunk.matched++;
        text += start + key.rowEnd;
      }
      chunk.totalMicros += row.amountMicros;
      if (++chunk.lines === chunkLines) {
        if (text !== '') chunk.bytes.push(Buffer.from(text));
        text = '';
        yield chunk;
        chunk = { bytes: [], waiting: [], lines: 0, matched: 0, totalMicros: 0n };
      }
    }
    if (text !== '') chunk.bytes.push(Buffer.from(text));
  }
  if (chunk.lines > 0) yield chunk;
}

/** One (kind, name, period start, period end): its resource, as the end of its lines' COPY rows once asked. */
interface ResourceKeySlot {
  readonly key: ResourceKey;
  /** Undefined until resolved; UNMATCHED_ROW_END when no resource matches. */
  rowEnd: string | undefined;
}

/**
 * The resource each (kind, name, period start, period end) of the invoice names, asked of the
 * database once per key (matchResourcesSql, the matching rule's one place). Keyed by the values
 * themselves, level by level, so a line costs a few map lookups and no key string.
 */
class ResourceMatches {
  readonly #byKind = new Map<string, Map<string, Map<string, Map<string, ResourceKeySlot>>>>();

  /** The slot of the row's key (created unresolved the first time); null when the row names no resource. */
  slot(row: InvoiceCsvRow): ResourceKeySlot | null {
    const name = row.resourceName;
    if (name === null) return null;
    const start = row.periodStart?.iso ?? null;
    const end = row.periodEnd?.iso ?? null;
    const byName = getOrAdd(this.#byKind, row.kind, () => new Map());
    const byStart = getOrAdd(byName, name, () => new Map());
    const byEnd = getOrAdd(byStart, start ?? '', () => new Map());
    return getOrAdd(byEnd, end ?? '', () => ({ key: { kind: row.kind, resourceName: name, periodStart: start, periodEnd: end }, rowEnd: undefined }));
  }

  /** Resolves, in one query, every slot of `waiting` not resolved yet. */
  async resolve(client: pg.PoolClient, waiting: readonly { key: ResourceKeySlot }[]): Promise<void> {
    const slots = [...new Set(waiting.map((w) => w.key).filter((slot) => slot.rowEnd === undefined))];
    if (slots.length === 0) return;
    const found = new Map<number, string>();
    for (const m of await run<{ i: number; resource_id: string; deployment_id: string | null }>(client, matchResourcesSql(slots.map((slot) => slot.key)))) {
      found.set(m.i, costLineCopyRowEnd({ resourceId: m.resource_id, deploymentId: m.deployment_id }));
    }
    slots.forEach((slot, i) => (slot.rowEnd = found.get(i + 1) ?? UNMATCHED_ROW_END));
  }
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}

/** A Prisma.sql statement on a plain pg connection (the ingest's transaction holds its own). */
async function run<T>(client: pg.PoolClient, statement: Prisma.Sql): Promise<T[]> {
  return (await client.query(statement.text, statement.values)).rows as T[];
}

// hours is NUMERIC(30,12): refuse what it would round or overflow, with the row, rather than store it altered.
const STORABLE_HOURS = /^-?\d{1,18}(\.\d{1,12})?$/;

function checkStorable(row: InvoiceCsvRow, storable: Set<string>): void {
  const hours = row.hours;
  if (hours === null || storable.has(hours)) return;
  if (!STORABLE_HOURS.test(hours.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''))) {
    throw new InvoiceCsvError(row.rowNumber, `hours ${JSON.stringify(hours)} has more than 18 integer or 12 decimal digits`);
  }
  if (storable.size < 20_000) storable.add(hours);
}
