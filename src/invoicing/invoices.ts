// Reading tenant invoices. Tenant scoping happens here, in the query: a caller who does not see
// every tenant gets "not found" for another tenant's invoice, never its content.
import type { Principal } from '../auth/tokens.ts';
import { seesAllTenants } from '../auth/tokens.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { queryRows, type Db } from '../platform/database.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.ts';
import { moneyJson } from '../money/money.ts';
import { decimalString as decimalJson } from '../http/request-support.ts';
import { formatDecimal, parseDecimal, trimDecimal } from '../money/decimal.ts';
import { periodOf, type Period } from './period.ts';
import { encodeCursor, type PageCursor } from '../http/request-support.ts';

export interface ListInvoicesInput {
  period?: Period | undefined;
  status?: 'draft' | 'issued' | 'paid' | 'void' | undefined;
  tenantId?: string | undefined;
  limit: number;
  /** Decoded by the route (a bad cursor is a 400 naming `cursor`). */
  cursor?: PageCursor | undefined;
}

/** The tenant a caller may read, or null for staff who read every tenant. */
export function tenantScope(principal: Principal, requested?: string): string | null {
  if (seesAllTenants(principal)) return requested ?? null;
  if (!principal.tenantId) throw new ForbiddenError('this token is not bound to a tenant');
  if (requested && requested !== principal.tenantId) throw new ForbiddenError('tenant_id filter is only for platform_admin and finance');
  return principal.tenantId;
}

type InvoiceRow = {
  id: string;
  tenantId: string;
  periodStart: Date;
  periodEnd: Date;
  status: string;
  number: string | null;
  taxRate: Prisma.Decimal;
  issuedAt: Date | null;
  dueAt: Date | null;
  paidAt: Date | null;
  paymentReference: string | null;
  voidedAt: Date | null;
  voidReason: string | null;
  replacesInvoiceId: string | null;
  currency: string;
  subtotalMinor: bigint;
  taxMinor: bigint;
  totalMinor: bigint;
  revision: number;
  inputsHash: string;
  llmEventCount: number;
  computedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  tenant?: { slug: string; name: string };
};

/** A stored line as JSON, without its amount (callers add it in the shape they need). */
export function lineJson(l: { lineNo: number; kind: string; deploymentId: string | null; resourceKind: string | null; description: string; quantity: { toString(): string }; unitPrice: { toString(): string } }) {
  return {
    line_no: l.lineNo,
    kind: l.kind,
    deployment_id: l.deploymentId,
    resource_kind: l.resourceKind,
    description: l.description,
    quantity: l.quantity.toString(),
    unit_price: l.unitPrice.toString(),
  };
}

export function invoiceJson(invoice: InvoiceRow) {
  return {
    id: invoice.id,
    tenant_id: invoice.tenantId,
    ...(invoice.tenant ? { tenant_slug: invoice.tenant.slug, tenant_name: invoice.tenant.name } : {}),
    period: periodOf(invoice.periodStart).key,
    period_start: invoice.periodStart.toISOString(),
    period_end: invoice.periodEnd.toISOString(),
    status: invoice.status,
    number: invoice.number,
    issued_at: invoice.issuedAt?.toISOString() ?? null,
    due_at: invoice.dueAt?.toISOString() ?? null,
    paid_at: invoice.paidAt?.toISOString() ?? null,
    payment_reference: invoice.paymentReference,
    voided_at: invoice.voidedAt?.toISOString() ?? null,
    void_reason: invoice.voidReason,
    replaces_invoice_id: invoice.replacesInvoiceId,
    currency: invoice.currency,
    tax_rate: decimalJson(invoice.taxRate),
    revision: invoice.revision,
    subtotal: moneyJson(invoice.subtotalMinor, invoice.currency),
    tax: moneyJson(invoice.taxMinor, invoice.currency),
    total: moneyJson(invoice.totalMinor, invoice.currency),
    llm_event_count: invoice.llmEventCount,
    inputs_hash: invoice.inputsHash,
    computed_at: invoice.computedAt.toISOString(),
    created_at: invoice.createdAt.toISOString(),
    updated_at: invoice.updatedAt.toISOString(),
  };
}

/** A row of the list query: every column already text (or int4), as listInvoices shapes it. */
interface InvoiceListRow {
  id: string;
  tenant_id: string;
  tenant_slug: string;
  tenant_name: string;
  period: string;
  period_start: string;
  period_end: string;
  status: string;
  number: string | null;
  issued_at: string | null;
  due_at: string | null;
  paid_at: string | null;
  payment_reference: string | null;
  voided_at: string | null;
  void_reason: string | null;
  replaces_invoice_id: string | null;
  currency: string;
  tax_rate: string;
  revision: number;
  subtotal_minor: string;
  tax_minor: string;
  total_minor: string;
  llm_event_count: number;
  inputs_hash: string;
  computed_at: string;
  created_at: string;
  updated_at: string;
}

/** An instant as Date.toISOString() prints it (UTC, milliseconds): the columns are timestamptz(3). */
const iso = (column: Prisma.Sql) => Prisma.sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The same JSON as invoiceJson, from a list row. Money: minor units stay exact (BigInt from the
 * column's text) and go through moneyJson.
 */
function invoiceListJson(r: InvoiceListRow) {
  return {
    id: r.id,
    tenant_id: r.tenant_id,
    tenant_slug: r.tenant_slug,
    tenant_name: r.tenant_name,
    period: r.period,
    period_start: r.period_start,
    period_end: r.period_end,
    status: r.status,
    number: r.number,
    issued_at: r.issued_at,
    due_at: r.due_at,
    paid_at: r.paid_at,
    payment_reference: r.payment_reference,
    voided_at: r.voided_at,
    void_reason: r.void_reason,
    replaces_invoice_id: r.replaces_invoice_id,
    currency: r.currency,
    tax_rate: formatDecimal(trimDecimal(parseDecimal(r.tax_rate))),
    revision: r.revision,
    subtotal: moneyJson(BigInt(r.subtotal_minor), r.currency),
    tax: moneyJson(BigInt(r.tax_minor), r.currency),
    total: moneyJson(BigInt(r.total_minor), r.currency),
    llm_event_count: r.llm_event_count,
    inputs_hash: r.inputs_hash,
    computed_at: r.computed_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/**
 * A page of invoices, newest first, in one SQL statement whose columns arrive as the JSON wants
 * them (timestamps formatted by PostgreSQL, ids and amounts as text): the list is the API's most
 * read route (bench:api), and Prisma's findMany with the tenant included cost more per page than
 * everything else in the request put together. The page never shows the stored inputs (the
 * detail does), so they are not read.
 *
 * Plans (bench:api, 10,000 invoices; the indexes of the 20261122080000 migration):
 *   staff:  Limit -> Nested Loop -> Index Scan Backward using tenant_invoices_created_at_id_idx
 *             (Index Cond: created_at <= cursor; Filter: the OR) -> Index Scan using tenants_pkey
 *   tenant: ... Index Scan Backward using tenant_invoices_tenant_id_created_at_id_idx (tenant_id = $1 AND created_at <= cursor)
 *   period: ... Index Scan Backward using tenant_invoices_period_start_created_at_id_idx (period_start = $1 AND created_at <= cursor)
 */
export async function listInvoices(db: Db, principal: Principal, input: ListInvoicesInput) {
  const tenantId = tenantScope(principal, input.tenantId);
  const cursor = input.cursor ?? null;
  const conditions: Prisma.Sql[] = [];
  if (tenantId) conditions.push(Prisma.sql`i.tenant_id = ${tenantId}::uuid`);
  if (input.period) conditions.push(Prisma.sql`i.period_start = ${input.period.start}::timestamptz`);
  if (input.status) conditions.push(Prisma.sql`i.status = ${input.status}::invoice_status`);
  // created_at <= cursor is redundant with the OR but is what lets the (…, created_at, id)
  // indexes start the backward scan at the cursor.
  if (cursor) {
    const at = cursor.createdAt.toISOString();
    conditions.push(Prisma.sql`i.created_at <= ${at}::timestamptz AND (i.created_at < ${at}::timestamptz OR (i.created_at = ${at}::timestamptz AND i.id < ${cursor.id}::uuid))`);
  }
  const rows = await queryRows<InvoiceListRow>(db, Prisma.sql`
    SELECT i.id::text AS id, i.tenant_id::text AS tenant_id, t.slug AS tenant_slug, t.name AS tenant_name,
           to_char(i.period_start AT TIME ZONE 'UTC', 'YYYY-MM') AS period,
           ${iso(Prisma.sql`i.period_start`)} AS period_start, ${iso(Prisma.sql`i.period_end`)} AS period_end,
           i.status::text AS status, i.number,
           ${iso(Prisma.sql`i.issued_at`)} AS issued_at, ${iso(Prisma.sql`i.due_at`)} AS due_at, ${iso(Prisma.sql`i.paid_at`)} AS paid_at,
           i.payment_reference, ${iso(Prisma.sql`i.voided_at`)} AS voided_at, i.void_reason,
           i.replaces_invoice_id::text AS replaces_invoice_id,
           i.currency::text AS currency, i.tax_rate::text AS tax_rate, i.revision,
           i.subtotal_minor::text AS subtotal_minor, i.tax_minor::text AS tax_minor, i.total_minor::text AS total_minor,
           i.llm_event_count, i.inputs_hash,
           ${iso(Prisma.sql`i.computed_at`)} AS computed_at, ${iso(Prisma.sql`i.created_at`)} AS created_at, ${iso(Prisma.sql`i.updated_at`)} AS updated_at
      FROM tenant_invoices i
      JOIN tenants t ON t.id = i.tenant_id
     ${conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}
     ORDER BY i.created_at DESC, i.id DESC
     LIMIT ${input.limit + 1}::int`, { prepared: true });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    data: page.map(invoiceListJson),
    next_cursor: rows.length > input.limit && last ? encodeCursor({ createdAt: new Date(last.created_at), id: last.id }) : null,
  };
}

export async function getInvoice(db: Db, principal: Principal, id: string) {
  const tenantId = seesAllTenants(principal) ? null : principal.tenantId;
  if (!seesAllTenants(principal) && !tenantId) throw new ForbiddenError('this token is not bound to a tenant');
  const invoice = await db.tenantInvoice.findFirst({
    where: { id, ...(tenantId ? { tenantId } : {}) },
    include: {
      lines: { orderBy: { lineNo: 'asc' } },
      tenant: { select: { slug: true, name: true } },
      revisions: { orderBy: { revision: 'asc' } },
      statusChanges: { orderBy: { at: 'asc' } },
      adjustmentNotes: { orderBy: [{ issuedAt: 'asc' }, { number: 'asc' }] },
    },
  });
  if (!invoice) throw new NotFoundError('invoice');
  const deliveries = await db.receivableDelivery.findMany({ where: { invoiceId: invoice.id }, orderBy: [{ createdAt: 'asc' }, { version: 'asc' }] });
  const c = invoice.currency;
  const notesTotal = invoice.adjustmentNotes.reduce((sum, n) => sum + n.totalDeltaMinor, 0n);
  return {
    ...invoiceJson(invoice),
    // What the tenant owes for the period: the invoice plus its adjustment notes (void: nothing).
    net_total: moneyJson(invoice.status === 'void' ? 0n : invoice.totalMinor + notesTotal, c),
    lines: invoice.lines.map((l) => ({ ...lineJson(l), amount: moneyJson(l.amountMinor, c) })),
    billed_to: invoice.billedTo,
    supplier: invoice.supplier,
    inputs: invoice.inputs,
    status_changes: invoice.statusChanges.map((s) => ({ from: s.fromStatus, to: s.toStatus, actor: s.actor, reason: s.reason, at: s.at.toISOString() })),
    adjustment_notes: invoice.adjustmentNotes.map((n) => ({
      id: n.id,
      number: n.number,
      reason: n.reason,
      issued_at: n.issuedAt.toISOString(),
      subtotal_delta: moneyJson(n.subtotalDeltaMinor, c),
      tax_delta: moneyJson(n.taxDeltaMinor, c),
      total_delta: moneyJson(n.totalDeltaMinor, c),
    })),
    deliveries: deliveries.map(deliveryJson),
    revisions: invoice.revisions.map((r) => ({
      revision: r.revision,
      forced_by: r.forcedBy,
      forced_at: r.forcedAt.toISOString(),
      reason: r.reason,
      previous_subtotal: moneyJson(r.previousSubtotalMinor, c),
      previous_tax: moneyJson(r.previousTaxMinor, c),
      previous_total: moneyJson(r.previousTotalMinor, c),
      previous_lines: r.previousLines,
    })),
  };
}

/** Where one document version stands in its delivery to finance. */
export function deliveryJson(d: {
  documentType: 'invoice' | 'adjustment_note';
  documentId: string;
  version: number;
  state: 'pending' | 'delivered' | 'failed' | 'skipped';
  attempts: number;
  lastErrorStatus: number | null;
  lastError: string | null;
  financeId: string | null;
  financeAction: string | null;
  deliveredAt: Date | null;
  idempotencyKey: string;
}) {
  return {
    document_type: d.documentType,
    document_id: d.documentId,
    version: d.version,
    idempotency_key: d.idempotencyKey,
    state: d.state,
    attempts: d.attempts,
    last_error_status: d.lastErrorStatus,
    last_error: d.lastError,
    finance_id: d.financeId,
    finance_action: d.financeAction,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}
