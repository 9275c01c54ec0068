// Reading tenant invoices. Tenant scoping happens here, in the query: a caller who does not see
// every tenant gets "not found" for another tenant's invoice, never its content.
import type { Principal } from '../auth/tokens.ts';
import { seesAllTenants } from '../auth/tokens.ts';
import type { Db, Prisma } from '../platform/database.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.ts';
import { moneyJson } from '../money/money.ts';
import { decimalString as decimalJson } from '../http/request-support.ts';
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

export async function listInvoices(db: Db, principal: Principal, input: ListInvoicesInput) {
  const tenantId = tenantScope(principal, input.tenantId);
  const cursor = input.cursor ?? null;
  const rows = await db.tenantInvoice.findMany({
    where: {
      ...(tenantId ? { tenantId } : {}),
      ...(input.period ? { periodStart: input.period.start } : {}),
      ...(input.status ? { status: input.status } : {}),
      // createdAt <= cursor is redundant with the OR but is what lets the (…, created_at, id)
      // indexes start the backward scan at the cursor (see the 20261122080000 migration).
      ...(cursor
        ? {
            createdAt: { lte: cursor.createdAt },
            OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }],
          }
        : {}),
    },
    // A page never shows the stored inputs (the detail does): do not load 50 of them.
    omit: { inputs: true },
    include: { tenant: { select: { slug: true, name: true } } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    data: page.map(invoiceJson),
    next_cursor: rows.length > input.limit && last ? encodeCursor(last) : null,
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
