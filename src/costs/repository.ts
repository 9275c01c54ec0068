// The cost side's SQL. Set-based throughout: an invoice's lines go in by COPY (chunks of 10,000),
// each chunk's lines matched to cloud_resources by one query over their distinct keys; lines left
// unmatched are matched later by one UPDATE ... FROM cloud_resources; the resource sync is one
// INSERT ... ON CONFLICT for all listed resources. NUMERIC values are read as text (`::text`) and
// written from decimal strings, so amounts never pass through a float.
import { Prisma } from '../generated/prisma/client.ts';
import { copyText } from '../platform/copy.ts';
import type { Db } from '../platform/database.ts';
import type { InvoiceCostLine, InvoiceCsvReader, InvoiceCsvRow } from './invoice-csv.ts';

/** The provider value of cloud_resources rows this side syncs and matches against. */
export const PROVIDER = 'digitalocean';

export type IngestStatus = 'pending' | 'ingested' | 'failed';
export type PushStatus = 'pending' | 'pushed' | 'skipped' | 'failed';

// ---------------------------------------------------------------- balance

export interface BalanceSnapshotRow {
  id: string;
  month_to_date_balance: string;
  account_balance: string;
  month_to_date_usage: string;
  generated_at: Date;
  fetched_at: Date;
}

export async function insertBalanceSnapshot(
  db: Db,
  s: { monthToDateBalance: string; accountBalance: string; monthToDateUsage: string; generatedAt: Date; fetchedAt: Date },
): Promise<BalanceSnapshotRow> {
  const [row] = await db.$queryRaw<BalanceSnapshotRow[]>`
    INSERT INTO balance_snapshots (month_to_date_balance, account_balance, month_to_date_usage, generated_at, fetched_at)
    VALUES (${s.monthToDateBalance}::numeric, ${s.accountBalance}::numeric, ${s.monthToDateUsage}::numeric,
            ${s.generatedAt}::timestamptz, ${s.fetchedAt}::timestamptz)
    RETURNING id::text, month_to_date_balance::text, account_balance::text, month_to_date_usage::text, generated_at, fetched_at`;
  return row!;
}

export async function latestBalanceSnapshot(db: Db): Promise<BalanceSnapshotRow | null> {
  const [row] = await db.$queryRaw<BalanceSnapshotRow[]>`
    SELECT id::text, month_to_date_balance::text, account_balance::text, month_to_date_usage::text, generated_at, fetched_at
      FROM balance_snapshots ORDER BY fetched_at DESC, id DESC LIMIT 1`;
  return row ?? null;
}

// ---------------------------------------------------------------- invoice headers

export interface InvoiceHeaderRow {
  id: string;
  invoice_uuid: string;
  invoice_id: string;
  period: Date;
  amount: string;
  description: string;
  date: Date;
  ingest_status: IngestStatus;
  ingested_at: Date | null;
  line_count: number | null;
  matched_count: number | null;
  csv_checksum: string | null;
  lines_total: string | null;
  amount_mismatch: boolean;
  last_error: string | null;
  push_status: PushStatus;
  pushed_to_finance_at: Date | null;
  finance_invoice_id: string | null;
  finance_action: string | null;
  push_error: string | null;
  pushed_checksum: string | null;
  refused_checksum: string | null;
  created_at: Date;
  updated_at: Date;
}

export const HEADER_COLUMNS = Prisma.sql`
  p.id::text AS id, p.invoice_uuid, p.invoice_id, p.period, p.amount::text AS amount, p.description, p."date",
  p.ingest_status::text AS ingest_status, p.ingested_at, p.line_count, p.matched_count, p.csv_checksum,
  p.lines_total::text AS lines_total, p.amount_mismatch, p.last_error, p.push_status::text AS push_status,
  p.pushed_to_finance_at, p.finance_invoice_id, p.finance_action, p.push_error, p.pushed_checksum, p.refused_checksum, p.created_at, p.updated_at`;

export function findHeaderSql(invoiceUuid: string, lock: 'none' | 'update' | 'share' = 'none'): Prisma.Sql {
  const suffix = lock === 'update' ? Prisma.sql`FOR UPDATE` : lock === 'share' ? Prisma.sql`FOR SHARE` : Prisma.empty;
  return Prisma.sql`SELECT ${HEADER_COLUMNS} FROM provider_invoices p WHERE p.invoice_uuid = ${invoiceUuid} ${suffix}`;
}

export async function findHeader(db: Db, invoiceUuid: string, lock: 'none' | 'update' | 'share' = 'none'): Promise<InvoiceHeaderRow | null> {
  const [row] = await db.$queryRaw<InvoiceHeaderRow[]>(findHeaderSql(invoiceUuid, lock));
  return row ?? null;
}

/** What the sync needs to know of the invoices it already has: their number and billing month. */
export async function findKnownHeaders(db: Db, invoiceUuids: readonly string[]): Promise<Map<string, { invoiceId: string; period: Date }>> {
  if (invoiceUuids.length === 0) return new Map();
  const rows = await db.$queryRaw<{ invoice_uuid: string; invoice_id: string; period: Date }[]>`
    SELECT invoice_uuid, invoice_id, period FROM provider_invoices WHERE invoice_uuid = ANY(${[...invoiceUuids]}::text[])`;
  return new Map(rows.map((r) => [r.invoice_uuid, { invoiceId: r.invoice_id, period: r.period }]));
}

export interface HeaderUpsert {
  invoiceUuid: string;
  invoiceId: string;
  period: Date;
  /** USD decimal string as the billing history states it. */
  amount: string;
  description: string;
  date: Date;
}

/**
 * One header per invoice uuid: INSERT ... ON CONFLICT (invoice_uuid) DO UPDATE. A known invoice
 * keeps its number and billing month; its amount, description and date follow the history, and
 * the mismatch flag is re-evaluated against the lines already stored.
 */
export async function upsertHeader(
  db: Db,
  h: HeaderUpsert,
  now: Date,
): Promise<{ id: string; inserted: boolean; ingestStatus: IngestStatus; pushStatus: PushStatus }> {
  const [row] = await db.$queryRaw<{ id: string; inserted: boolean; ingest_status: IngestStatus; push_status: PushStatus }[]>`
    INSERT INTO provider_invoices AS p (invoice_uuid, invoice_id, period, amount, description, "date", created_at, updated_at)
    VALUES (${h.invoiceUuid}, ${h.invoiceId}, ${h.period}::timestamptz, ${h.amount}::numeric, ${h.description},
            ${h.date}::timestamptz, ${now}::timestamptz, ${now}::timestamptz)
    ON CONFLICT (invoice_uuid) DO UPDATE SET
      amount = EXCLUDED.amount,
      description = EXCLUDED.description,
      "date" = EXCLUDED."date",
      amount_mismatch = COALESCE(p.lines_total <> EXCLUDED.amount, false),
      updated_at = CASE WHEN (p.amount, p.description, p."date") IS DISTINCT FROM (EXCLUDED.amount, EXCLUDED.description, EXCLUDED."date")
                        THEN EXCLUDED.updated_at ELSE p.updated_at END
    RETURNING p.id::text AS id, (p.xmax = 0) AS inserted, p.ingest_status::text AS ingest_status, p.push_status::text AS push_status`;
  return { id: row!.id, inserted: row!.inserted, ingestStatus: row!.ingest_status, pushStatus: row!.push_status };
}

/**
 * Invoices with work left: CSV not stored yet (pending) or refused last time (failed), or vendor
 * bill not with finance yet (push pending, or skipped while FINANCE_URL was not set).
 */
export async function invoicesWithWorkLeft(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ invoice_uuid: string }[]>`
    SELECT invoice_uuid FROM provider_invoices
     WHERE ingest_status <> 'ingested' OR push_status IN ('pending', 'skipped')
     ORDER BY period, invoice_uuid`;
  return rows.map((r) => r.invoice_uuid);
}

export async function allInvoiceUuids(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ invoice_uuid: string }[]>`SELECT invoice_uuid FROM provider_invoices ORDER BY period, invoice_uuid`;
  return rows.map((r) => r.invoice_uuid);
}

/**
 * Records why an ingest did not complete, in its own statement (never inside the ingest's
 * transaction, whose rollback would erase it). `failed` marks a CSV we refused; a fetch error
 * leaves the status as it was.
 */
export async function recordIngestError(db: Db, invoiceUuid: string, message: string, options: { markFailed: boolean; now: Date }): Promise<void> {
  await db.$executeRaw`
    UPDATE provider_invoices
       SET last_error = ${message},
           ingest_status = CASE WHEN ${options.markFailed} THEN 'failed'::cost_ingest_status ELSE ingest_status END,
           updated_at = ${options.now}::timestamptz
     WHERE invoice_uuid = ${invoiceUuid}`;
}

export interface IngestedHeader {
  amount_mismatch: boolean;
  push_status: PushStatus;
}

/**
 * Marks the header ingested with the counts of the lines just stored. A CSV other than the one
 * finance last accepted makes the push pending again.
 */
export function markIngestedSql(h: { id: string; checksum: string; lineCount: number; matchedCount: number; linesTotal: string; now: Date }): Prisma.Sql {
  return Prisma.sql`
    UPDATE provider_invoices SET
      ingest_status = 'ingested',
      ingested_at = ${h.now}::timestamptz,
      line_count = ${h.lineCount},
      matched_count = ${h.matchedCount},
      csv_checksum = ${h.checksum},
      lines_total = ${h.linesTotal}::numeric,
      amount_mismatch = (${h.linesTotal}::numeric <> amount),
      last_error = NULL,
      push_status = CASE WHEN pushed_checksum = ${h.checksum} THEN push_status ELSE 'pending'::vendor_bill_push_status END,
      push_error = CASE WHEN pushed_checksum = ${h.checksum} THEN push_error ELSE NULL END,
      updated_at = ${h.now}::timestamptz
    WHERE id = ${h.id}::uuid
    RETURNING amount_mismatch, push_status::text AS push_status`;
}

export async function markIngested(
  db: Db,
  h: { id: string; checksum: string; lineCount: number; matchedCount: number; linesTotal: string; now: Date },
): Promise<IngestedHeader> {
  const [row] = await db.$queryRaw<IngestedHeader[]>(markIngestedSql(h));
  return row!;
}

/** The CSV that failed before is back to the one whose lines are stored: nothing to rewrite. */
export async function markRecovered(db: Db, id: string, now: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE provider_invoices SET ingest_status = 'ingested', last_error = NULL, updated_at = ${now}::timestamptz WHERE id = ${id}::uuid`;
}

// ---------------------------------------------------------------- cost lines

/**
 * Which resource a line names: same kind, same name ignoring case, at this provider. When a
 * name was reused (a resource deleted and another created under its name), the one alive during
 * the line's period wins, then the most recently created. One rule for both places that match:
 * matchResourcesSql (at ingest) and matchAllUnmatchedLines (after a resource sync).
 */
const SAME_RESOURCE = Prisma.sql`r.provider = ${PROVIDER} AND r.kind = l.kind AND lower(r.name) = lower(l.resource_name)`;
const BEST_RESOURCE_FIRST = Prisma.sql`
  (r.created_at < COALESCE(l.period_end, 'infinity') AND COALESCE(r.deleted_at, 'infinity') > COALESCE(l.period_start, '-infinity')) DESC,
  r.created_at DESC, r.id`;

// ---- an invoice's new lines: COPY straight into cost_lines, a chunk at a time, each line already
// matched to its resource by one set-based query per chunk over the chunk's distinct (kind, name,
// period) keys. Every id is generated here, so COPY never evaluates a column default (a volatile
// default such as gen_random_uuid() makes PostgreSQL insert row by row instead of in batches).

/** What a line names, for matching: equal keys match the same resource. */
export interface ResourceKey {
  kind: string;
  resourceName: string;
  /** ISO 8601 instants (null: the line has no period). */
  periodStart: string | null;
  periodEnd: string | null;
}

export interface ResourceMatch {
  resourceId: string;
  deploymentId: string | null;
}

/**
 * The resource each key names, by the matching rule (SAME_RESOURCE, BEST_RESOURCE_FIRST): one row
 * per key that matches, `i` its 1-based position in `keys`. The keys are few (the distinct names
 * and periods of a chunk; the first chunk of bench:csv has 2,500), joined by hash to one scan of
 * the provider's resources (EXPLAIN ANALYZE, 2,500 keys, 1,000 resources: 36 ms):
 *   Unique -> Sort (l.i, alive during the period DESC, created_at DESC, r.id)
 *     -> Hash Join ((l.kind = r.kind) AND (lower(l.resource_name) = lower(r.name)))
 *          -> Function Scan on l (unnest)
 *          -> Hash -> Bitmap Heap Scan on cloud_resources r (provider = 'digitalocean')
 */
export function matchResourcesSql(keys: readonly ResourceKey[]): Prisma.Sql {
  const col = <T>(pick: (k: ResourceKey) => T): T[] => keys.map(pick);
  return Prisma.sql`
    SELECT DISTINCT ON (l.i) l.i::int AS i, r.id::text AS resource_id, r.deployment_id::text AS deployment_id
      FROM unnest(${col((k) => k.kind)}::text[], ${col((k) => k.resourceName)}::text[],
                  ${col((k) => k.periodStart)}::timestamptz[], ${col((k) => k.periodEnd)}::timestamptz[])
           WITH ORDINALITY AS l(kind, resource_name, period_start, period_end, i)
      JOIN cloud_resources r ON ${SAME_RESOURCE}
     ORDER BY l.i, ${BEST_RESOURCE_FIRST}`;
}

/** The cost_lines columns a COPY row gives, in order. */
const COST_LINE_COPY_COLUMNS = `id, provider_invoice_id, "row_number", product, group_description, description, hours,
  period_start, period_end, usd_raw, project_name, category, fields, amount_micros, kind, resource_name, cloud_resource_id, deployment_id`;

export const COPY_INTO_COST_LINES = `COPY cost_lines (${COST_LINE_COPY_COLUMNS}) FROM STDIN`;

/**
 * One cost line as a row of COPY's text format (tab-separated, \N for null, backslash escapes), in
 * COST_LINE_COPY_COLUMNS order, in two parts: everything up to the resource it matched (written
 * while the previous chunk is stored), then costLineCopyRowEnd once the match is known.
 */
export function costLineCopyRowStart(id: string, providerInvoiceId: string, reader: InvoiceCsvReader, row: InvoiceCsvRow): string {
  const r = row.record;
  const fields = reader.fieldsJson(r);
  // A field with a backslash, tab, line break or carriage return has a backslash in its JSON
  // (fieldsJson): without one there, no text of the line needs COPY's escapes.
  const text = fields.includes('\\') ? copyText : plainText;
  return (
    `${id}\t${providerInvoiceId}\t${row.rowNumber}\t${text(reader.column(r, 'product'))}\t${text(reader.column(r, 'group_description'))}\t` +
    `${text(reader.column(r, 'description'))}\t${row.hours ?? '\\N'}\t${row.periodStart?.iso ?? '\\N'}\t${row.periodEnd?.iso ?? '\\N'}\t` +
    `${text(reader.column(r, 'USD'))}\t${text(reader.column(r, 'project_name'))}\t${text(reader.column(r, 'category'))}\t` +
    `${text(fields)}\t${row.amountMicros}\t${row.kind}\t${row.resourceName === null ? '\\N' : text(row.resourceName)}\t`
  );
}

/** The rest of the row costLineCopyRowStart began: the resource and deployment the line matched. */
export function costLineCopyRowEnd(match: ResourceMatch | null): string {
  return match === null ? UNMATCHED_ROW_END : `${match.resourceId}\t${match.deploymentId ?? '\\N'}\n`;
}

/** The end of a line's COPY row when it matched no resource. */
export const UNMATCHED_ROW_END = '\\N\t\\N\n';

const plainText = (value: string): string => value;

export function deleteCostLinesSql(providerInvoiceId: string): Prisma.Sql {
  return Prisma.sql`DELETE FROM cost_lines WHERE provider_invoice_id = ${providerInvoiceId}::uuid`;
}

/**
 * Matches every still-unmatched line (resources synced after their invoice was ingested) with one
 * UPDATE ... FROM cloud_resources, and adds the new matches to each header's matched_count, in
 * one statement. Already matched lines are never touched: a line keeps the resource and
 * deployment it was matched to.
 */
export async function matchAllUnmatchedLines(db: Db, now: Date): Promise<number> {
  const rows = await db.$queryRaw<{ matched: number }[]>`
    WITH matched AS (
      UPDATE cost_lines c SET cloud_resource_id = m.resource_id, deployment_id = m.deployment_id
        FROM (
          SELECT DISTINCT ON (l.id) l.id AS line_id, r.id AS resource_id, r.deployment_id
            FROM cost_lines l JOIN cloud_resources r ON ${SAME_RESOURCE}
           WHERE l.cloud_resource_id IS NULL AND l.resource_name IS NOT NULL
           ORDER BY l.id, ${BEST_RESOURCE_FIRST}
        ) m
       WHERE c.id = m.line_id
      RETURNING c.provider_invoice_id
    ), per_invoice AS (
      SELECT provider_invoice_id, count(*)::int AS n FROM matched GROUP BY provider_invoice_id
    ), bumped AS (
      -- A data-modifying WITH runs to completion even though the SELECT below does not read it.
      UPDATE provider_invoices p SET matched_count = COALESCE(p.matched_count, 0) + pi.n, updated_at = ${now}::timestamptz
        FROM per_invoice pi WHERE p.id = pi.provider_invoice_id
    )
    SELECT COALESCE(sum(n), 0)::int AS matched FROM per_invoice`;
  return rows[0]?.matched ?? 0;
}

export interface BillLineRow {
  description: string;
  product: string;
  amount_micros: bigint;
  kind: InvoiceCostLine['kind'];
}

export async function billLines(db: Db, providerInvoiceId: string): Promise<BillLineRow[]> {
  return db.$queryRaw<BillLineRow[]>`
    SELECT description, product, amount_micros, kind FROM cost_lines
     WHERE provider_invoice_id = ${providerInvoiceId}::uuid ORDER BY "row_number"`;
}

// ---------------------------------------------------------------- cloud resources

export interface ProviderResource {
  kind: 'droplet' | 'volume';
  providerResourceId: string;
  name: string;
  size: string;
  createdAt: Date;
}

/**
 * INSERT ... ON CONFLICT (provider, provider_resource_id) DO UPDATE SET name, size: a known
 * resource is renamed or resized, never moved to another deployment (deployment_id is not in the
 * SET list) and its created_at is never rewritten. Unchanged rows are not written at all.
 */
export async function upsertProviderResources(db: Db, resources: readonly ProviderResource[]): Promise<{ inserted: number; updated: number }> {
  if (resources.length === 0) return { inserted: 0, updated: 0 };
  const col = <T>(pick: (r: ProviderResource) => T): T[] => resources.map(pick);
  const rows = await db.$queryRaw<{ inserted: boolean }[]>`
    INSERT INTO cloud_resources AS c (provider, provider_resource_id, kind, name, size, created_at)
    SELECT ${PROVIDER}, r.provider_resource_id, r.kind, r.name, r.size, r.created_at
      FROM unnest(${col((r) => r.providerResourceId)}::text[], ${col((r) => r.kind)}::text[], ${col((r) => r.name)}::text[],
                  ${col((r) => r.size)}::text[], ${col((r) => r.createdAt)}::timestamptz[])
           AS r(provider_resource_id, kind, name, size, created_at)
    ON CONFLICT (provider, provider_resource_id) DO UPDATE SET name = EXCLUDED.name, size = EXCLUDED.size
     WHERE (c.name, c.size) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.size)
    RETURNING (c.xmax = 0) AS inserted`;
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted };
}

/** Marks deleted (at `now`) the live resources of `kind` at this provider that a complete listing no longer shows. */
export async function markUnlistedDeleted(db: Db, kind: 'droplet' | 'volume', listedIds: readonly string[], now: Date): Promise<number> {
  return db.$executeRaw`
    UPDATE cloud_resources SET deleted_at = GREATEST(${now}::timestamptz, created_at)
     WHERE provider = ${PROVIDER} AND kind = ${kind} AND deleted_at IS NULL
       AND NOT (provider_resource_id = ANY(${[...listedIds]}::text[]))`;
}
