// Read models of the cost side for the API: the latest balance, cost lines with their resource
// and deployment, provider invoice headers. Amounts are exact (usdJson); cursors are opaque.
import { Prisma } from '../generated/prisma/client.ts';
import { periodOf } from '../invoicing/period.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { CostKind } from './invoice-csv.ts';
import { HEADER_COLUMNS, latestBalanceSnapshot, type IngestStatus, type InvoiceHeaderRow, type PushStatus } from './repository.ts';
import { usdJson, usdJsonFromNumeric } from './usd.ts';

export const COST_KINDS = ['droplet', 'volume', 'snapshot', 'spaces', 'floating_ip', 'load_balancer', 'kubernetes', 'database', 'tax', 'other'] as const satisfies readonly CostKind[];

/** 400 naming the query parameter (a cursor not issued by this endpoint). */
export class BadQueryError extends DomainError {
  constructor(field: string, message: string) {
    super('validation_failed', 400, `${field}: ${message}`, { field });
  }
}

function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor<T extends unknown[]>(raw: string, check: (v: unknown[]) => v is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(value) && check(value)) return value;
  } catch {
    // reported below
  }
  throw new BadQueryError('cursor', 'is not a cursor returned by this endpoint');
}

const isIsoString = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

// ---------------------------------------------------------------- balance

export async function getLatestBalance(db: Db) {
  const row = await latestBalanceSnapshot(db);
  if (!row) {
    throw new DomainError(
      'balance_not_found',
      404,
      'no balance snapshot yet: the balance-snapshot job stores one every hour at :07 UTC once PROVIDER_TOKEN is set',
    );
  }
  return {
    month_to_date_balance: usdJsonFromNumeric(row.month_to_date_balance),
    account_balance: usdJsonFromNumeric(row.account_balance),
    month_to_date_usage: usdJsonFromNumeric(row.month_to_date_usage),
    generated_at: row.generated_at.toISOString(),
    fetched_at: row.fetched_at.toISOString(),
  };
}

// ---------------------------------------------------------------- cost lines

export interface ListCostLinesInput {
  /** First instant of a billing month. */
  period?: Date | undefined;
  kind?: CostKind | undefined;
  matched?: boolean | undefined;
  invoiceUuid?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

interface CostLineRow {
  id: string;
  invoice_uuid: string;
  invoice_id: string;
  period: Date;
  provider_invoice_id: string;
  row_number: number;
  product: string;
  group_description: string;
  description: string;
  kind: string;
  resource_name: string | null;
  hours: string | null;
  period_start: Date | null;
  period_end: Date | null;
  usd_raw: string;
  project_name: string;
  category: string;
  fields: Record<string, string>;
  amount_micros: bigint;
  resource_id: string | null;
  resource_provider_id: string | null;
  resource_kind: string | null;
  resource_name_current: string | null;
  resource_size: string | null;
  resource_created_at: Date | null;
  resource_deleted_at: Date | null;
  deployment_id: string | null;
  deployment_slug: string | null;
  deployment_name: string | null;
  deployment_tenant_id: string | null;
}

type CostLineCursor = [period: string, providerInvoiceId: string, rowNumber: number];
const isCostLineCursor = (v: unknown[]): v is CostLineCursor =>
  v.length === 3 && isIsoString(v[0]) && typeof v[1] === 'string' && /^[0-9a-f-]{36}$/i.test(v[1]) && Number.isInteger(v[2]);

/** Newest billing month first, then by invoice and CSV row. */
export async function listCostLines(db: Db, input: ListCostLinesInput) {
  const cursor = input.cursor ? decodeCursor(input.cursor, isCostLineCursor) : null;
  const where: Prisma.Sql[] = [Prisma.sql`true`];
  if (input.period) where.push(Prisma.sql`p.period = ${input.period}::timestamptz`);
  if (input.kind) where.push(Prisma.sql`l.kind = ${input.kind}`);
  if (input.matched !== undefined) where.push(input.matched ? Prisma.sql`l.cloud_resource_id IS NOT NULL` : Prisma.sql`l.cloud_resource_id IS NULL`);
  if (input.invoiceUuid) where.push(Prisma.sql`p.invoice_uuid = ${input.invoiceUuid}`);
  if (cursor) {
    const [period, invoiceId, row] = cursor;
    where.push(Prisma.sql`(p.period < ${new Date(period)}::timestamptz
      OR (p.period = ${new Date(period)}::timestamptz AND (l.provider_invoice_id, l."row_number") > (${invoiceId}::uuid, ${row}::int)))`);
  }
  const rows = await db.$queryRaw<CostLineRow[]>`
    SELECT l.id::text AS id, p.invoice_uuid, p.invoice_id, p.period, l.provider_invoice_id::text AS provider_invoice_id, l."row_number",
           l.product, l.group_description, l.description, l.kind, l.resource_name, trim_scale(l.hours)::text AS hours,
           l.period_start, l.period_end, l.usd_raw, l.project_name, l.category, l.fields, l.amount_micros,
           r.id::text AS resource_id, r.provider_resource_id AS resource_provider_id, r.kind AS resource_kind, r.name AS resource_name_current,
           r.size AS resource_size, r.created_at AS resource_created_at, r.deleted_at AS resource_deleted_at,
           d.id::text AS deployment_id, d.slug AS deployment_slug, d.display_name AS deployment_name, d.tenant_id::text AS deployment_tenant_id
      FROM cost_lines l
      JOIN provider_invoices p ON p.id = l.provider_invoice_id
      LEFT JOIN cloud_resources r ON r.id = l.cloud_resource_id
      LEFT JOIN deployments d ON d.id = l.deployment_id
     WHERE ${Prisma.join(where, ' AND ')}
     ORDER BY p.period DESC, l.provider_invoice_id, l."row_number"
     LIMIT ${input.limit + 1}`;
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    data: page.map(costLineJson),
    next_cursor:
      rows.length > input.limit && last ? encodeCursor([last.period.toISOString(), last.provider_invoice_id, last.row_number] satisfies CostLineCursor) : null,
  };
}

function costLineJson(l: CostLineRow) {
  return {
    id: l.id,
    invoice_uuid: l.invoice_uuid,
    invoice_id: l.invoice_id,
    period: periodOf(l.period).key,
    row_number: l.row_number,
    kind: l.kind,
    product: l.product,
    group_description: l.group_description,
    description: l.description,
    resource_name: l.resource_name,
    project_name: l.project_name,
    category: l.category,
    hours: l.hours,
    period_start: l.period_start?.toISOString() ?? null,
    period_end: l.period_end?.toISOString() ?? null,
    usd_raw: l.usd_raw,
    amount: usdJson(l.amount_micros),
    fields: l.fields,
    matched: l.resource_id !== null,
    resource: l.resource_id
      ? {
          id: l.resource_id,
          provider_resource_id: l.resource_provider_id,
          kind: l.resource_kind,
          name: l.resource_name_current,
          size: l.resource_size,
          created_at: l.resource_created_at?.toISOString() ?? null,
          deleted_at: l.resource_deleted_at?.toISOString() ?? null,
        }
      : null,
    deployment: l.deployment_id
      ? { id: l.deployment_id, slug: l.deployment_slug, display_name: l.deployment_name, tenant_id: l.deployment_tenant_id }
      : null,
  };
}

// ---------------------------------------------------------------- provider invoices

export interface ListProviderInvoicesInput {
  period?: Date | undefined;
  ingestStatus?: IngestStatus | undefined;
  pushStatus?: PushStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

type InvoiceCursor = [period: string, invoiceUuid: string];
const isInvoiceCursor = (v: unknown[]): v is InvoiceCursor => v.length === 2 && isIsoString(v[0]) && typeof v[1] === 'string';

/** Newest billing month first. */
export async function listProviderInvoices(db: Db, input: ListProviderInvoicesInput) {
  const cursor = input.cursor ? decodeCursor(input.cursor, isInvoiceCursor) : null;
  const where: Prisma.Sql[] = [Prisma.sql`true`];
  if (input.period) where.push(Prisma.sql`p.period = ${input.period}::timestamptz`);
  if (input.ingestStatus) where.push(Prisma.sql`p.ingest_status = ${input.ingestStatus}::cost_ingest_status`);
  if (input.pushStatus) where.push(Prisma.sql`p.push_status = ${input.pushStatus}::vendor_bill_push_status`);
  if (cursor) {
    const [period, uuid] = cursor;
    where.push(Prisma.sql`(p.period < ${new Date(period)}::timestamptz OR (p.period = ${new Date(period)}::timestamptz AND p.invoice_uuid > ${uuid}))`);
  }
  const rows = await db.$queryRaw<InvoiceHeaderRow[]>`
    SELECT ${HEADER_COLUMNS} FROM provider_invoices p
     WHERE ${Prisma.join(where, ' AND ')}
     ORDER BY p.period DESC, p.invoice_uuid
     LIMIT ${input.limit + 1}`;
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    data: page.map(providerInvoiceJson),
    next_cursor: rows.length > input.limit && last ? encodeCursor([last.period.toISOString(), last.invoice_uuid] satisfies InvoiceCursor) : null,
  };
}

export function providerInvoiceJson(h: InvoiceHeaderRow) {
  return {
    invoice_uuid: h.invoice_uuid,
    invoice_id: h.invoice_id,
    period: periodOf(h.period).key,
    description: h.description,
    date: h.date.toISOString(),
    amount: usdJsonFromNumeric(h.amount),
    ingest: {
      status: h.ingest_status,
      ingested_at: h.ingested_at?.toISOString() ?? null,
      line_count: h.line_count,
      matched_count: h.matched_count,
      unmatched_count: h.line_count === null || h.matched_count === null ? null : h.line_count - h.matched_count,
      lines_total: h.lines_total === null ? null : usdJsonFromNumeric(h.lines_total),
      amount_mismatch: h.amount_mismatch,
      csv_checksum: h.csv_checksum,
      last_error: h.last_error,
    },
    push: {
      status: h.push_status,
      pushed_at: h.pushed_to_finance_at?.toISOString() ?? null,
      finance_invoice_id: h.finance_invoice_id,
      action: h.finance_action,
      pushed_checksum: h.pushed_checksum,
      error: h.push_error,
    },
    created_at: h.created_at.toISOString(),
    updated_at: h.updated_at.toISOString(),
  };
}
