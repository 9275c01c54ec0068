// Invoice and adjustment-note export as CSV, streamed: documents are read in keyset batches on
// (tenant_id, id), which the (tenant_id, period_start) indexes serve in order, so each batch costs
// the same however far into the period it is; tenant slugs are looked up per batch (a join would
// make the planner walk the tenants table from the start every batch). Each batch's rows are handed
// to csv-stringify as they come, and the HTTP reply streams the result. Memory stays bounded by
// one batch, whatever the period's size.
import { pipeline, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Db } from '../platform/database.ts';
import type { Period } from '../invoicing/period.ts';
import { formatMinor } from '../money/money.ts';
import { formatDecimal, parseDecimalOrScientific, trimDecimal } from '../money/decimal.ts';

export const EXPORT_BATCH = 500;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

async function slugsOf(db: Db, tenantIds: string[]): Promise<Map<string, string>> {
  const rows = await db.$queryRaw<{ id: string; slug: string }[]>`SELECT id::text, slug FROM tenants WHERE id = ANY(${[...new Set(tenantIds)]}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.slug]));
}

const plain = (d: string) => formatDecimal(trimDecimal(parseDecimalOrScientific(d)));
const iso = (d: Date | null) => (d ? d.toISOString() : '');

export const INVOICE_COLUMNS = ['invoice_id', 'invoice_number', 'status', 'tenant_slug', 'period', 'currency', 'issued_at', 'due_at', 'invoice_subtotal', 'invoice_tax', 'invoice_total'] as const;
export const INVOICE_LINE_COLUMNS = [...INVOICE_COLUMNS, 'line_no', 'deployment', 'kind', 'description', 'quantity', 'unit_price', 'amount'] as const;

interface InvoiceHead {
  id: string;
  tenant_id: string;
  number: string | null;
  status: string;
  tenant_slug: string;
  currency: string;
  issued_at: Date | null;
  due_at: Date | null;
  subtotal_minor: bigint;
  tax_minor: bigint;
  total_minor: bigint;
}

function invoiceRecord(h: InvoiceHead, period: Period): Record<string, string> {
  return {
    invoice_id: h.id,
    invoice_number: h.number ?? '',
    status: h.status,
    tenant_slug: h.tenant_slug,
    period: period.key,
    currency: h.currency,
    issued_at: iso(h.issued_at),
    due_at: iso(h.due_at),
    invoice_subtotal: formatMinor(h.subtotal_minor, h.currency),
    invoice_tax: formatMinor(h.tax_minor, h.currency),
    invoice_total: formatMinor(h.total_minor, h.currency),
  };
}

/** One record per invoice line (or per invoice with `lines: false`), batch after batch. */
export async function* invoiceExportRecords(db: Db, period: Period, options: { lines: boolean; batch?: number }): AsyncGenerator<Record<string, string>> {
  const batch = options.batch ?? EXPORT_BATCH;
  let after = { tenantId: FIRST_ID, id: FIRST_ID };
  for (;;) {
    const rows = await db.$queryRaw<Omit<InvoiceHead, 'tenant_slug'>[]>`
      SELECT i.id::text, i.tenant_id::text, i.number, i.status::text, i.currency::text, i.issued_at, i.due_at, i.subtotal_minor, i.tax_minor, i.total_minor
        FROM tenant_invoices i
       WHERE i.period_start = ${period.start}::timestamptz AND (i.tenant_id, i.id) > (${after.tenantId}::uuid, ${after.id}::uuid)
       ORDER BY i.tenant_id, i.id LIMIT ${batch}`;
    if (rows.length === 0) return;
    after = { tenantId: rows.at(-1)!.tenant_id, id: rows.at(-1)!.id };
    const slugs = await slugsOf(db, rows.map((r) => r.tenant_id));
    const heads: InvoiceHead[] = rows.map((r) => ({ ...r, tenant_slug: slugs.get(r.tenant_id) ?? r.tenant_id }));
    if (!options.lines) {
      for (const h of heads) yield invoiceRecord(h, period);
      continue;
    }
    const lines = await db.$queryRaw<{ invoice_id: string; line_no: number; deployment: string | null; kind: string; description: string; quantity: string; unit_price: string; amount_minor: bigint }[]>`
      SELECT l.invoice_id::text, l.line_no, d.slug AS deployment, l.kind::text, l.description, l.quantity::text, l.unit_price::text, l.amount_minor
        FROM tenant_invoice_lines l LEFT JOIN deployments d ON d.id = l.deployment_id
       WHERE l.invoice_id = ANY(${heads.map((h) => h.id)}::uuid[])
       ORDER BY l.invoice_id, l.line_no`;
    const byInvoice = new Map<string, typeof lines>();
    for (const l of lines) {
      const list = byInvoice.get(l.invoice_id) ?? [];
      list.push(l);
      byInvoice.set(l.invoice_id, list);
    }
    for (const h of heads) {
      const head = invoiceRecord(h, period);
      for (const l of byInvoice.get(h.id) ?? []) {
        yield {
          ...head,
          line_no: String(l.line_no),
          deployment: l.deployment ?? '',
          kind: l.kind,
          description: l.description,
          quantity: plain(l.quantity),
          unit_price: plain(l.unit_price),
          amount: formatMinor(l.amount_minor, h.currency),
        };
      }
    }
  }
}

export const NOTE_COLUMNS = ['note_id', 'note_number', 'invoice_number', 'tenant_slug', 'period', 'currency', 'issued_at', 'reason', 'note_subtotal_delta', 'note_tax_delta', 'note_total_delta'] as const;
export const NOTE_LINE_COLUMNS = [...NOTE_COLUMNS, 'line_no', 'deployment', 'kind', 'description', 'old_amount', 'new_amount', 'delta'] as const;

export async function* adjustmentNoteExportRecords(db: Db, period: Period, options: { lines: boolean; batch?: number }): AsyncGenerator<Record<string, string>> {
  const batch = options.batch ?? EXPORT_BATCH;
  let after = { tenantId: FIRST_ID, id: FIRST_ID };
  for (;;) {
    const rows = await db.$queryRaw<{ id: string; tenant_id: string; number: string; invoice_id: string; currency: string; issued_at: Date; reason: string; subtotal_delta_minor: bigint; tax_delta_minor: bigint; total_delta_minor: bigint }[]>`
      SELECT n.id::text, n.tenant_id::text, n.number, n.invoice_id::text, n.currency::text, n.issued_at, n.reason, n.subtotal_delta_minor, n.tax_delta_minor, n.total_delta_minor
        FROM adjustment_notes n
       WHERE n.period_start = ${period.start}::timestamptz AND (n.tenant_id, n.id) > (${after.tenantId}::uuid, ${after.id}::uuid)
       ORDER BY n.tenant_id, n.id LIMIT ${batch}`;
    if (rows.length === 0) return;
    after = { tenantId: rows.at(-1)!.tenant_id, id: rows.at(-1)!.id };
    const slugs = await slugsOf(db, rows.map((r) => r.tenant_id));
    const invoiceNumbers = new Map(
      (await db.$queryRaw<{ id: string; number: string | null }[]>`SELECT id::text, number FROM tenant_invoices WHERE id = ANY(${rows.map((r) => r.invoice_id)}::uuid[])`).map((r) => [r.id, r.number]),
    );
    const heads = rows.map((r) => ({ ...r, tenant_slug: slugs.get(r.tenant_id) ?? r.tenant_id, invoice_number: invoiceNumbers.get(r.invoice_id) ?? null }));
    const lines = options.lines
      ? await db.$queryRaw<{ note_id: string; line_no: number; deployment: string | null; kind: string; description: string; old_amount_minor: bigint; new_amount_minor: bigint; delta_minor: bigint }[]>`
          SELECT l.note_id::text, l.line_no, d.slug AS deployment, l.kind::text, l.description, l.old_amount_minor, l.new_amount_minor, l.delta_minor
            FROM adjustment_note_lines l LEFT JOIN deployments d ON d.id = l.deployment_id
           WHERE l.note_id = ANY(${heads.map((h) => h.id)}::uuid[])
           ORDER BY l.note_id, l.line_no`
      : [];
    for (const h of heads) {
      const c = h.currency;
      const head = {
        note_id: h.id,
        note_number: h.number,
        invoice_number: h.invoice_number ?? '',
        tenant_slug: h.tenant_slug,
        period: period.key,
        currency: c,
        issued_at: iso(h.issued_at),
        reason: h.reason,
        note_subtotal_delta: formatMinor(h.subtotal_delta_minor, c),
        note_tax_delta: formatMinor(h.tax_delta_minor, c),
        note_total_delta: formatMinor(h.total_delta_minor, c),
      };
      if (!options.lines) {
        yield head;
        continue;
      }
      for (const l of lines) {
        if (l.note_id !== h.id) continue;
        yield {
          ...head,
          line_no: String(l.line_no),
          deployment: l.deployment ?? '',
          kind: l.kind,
          description: l.description,
          old_amount: formatMinor(l.old_amount_minor, c),
          new_amount: formatMinor(l.new_amount_minor, c),
          delta: formatMinor(l.delta_minor, c),
        };
      }
    }
  }
}

/**
 * Records → CSV text stream (csv-stringify), header first. Back-pressure flows to the generator,
 * and a client that goes away destroys the pipeline, which stops the generator (no more batches
 * are read). A database error mid-stream cuts the response: the status line is already sent.
 */
export function csvStream(records: AsyncIterable<Record<string, string>>, columns: readonly string[]): Readable {
  const source = Readable.from(records, { objectMode: true, highWaterMark: 64 });
  return pipeline(source, stringify({ header: true, columns: [...columns] }), () => {});
}
