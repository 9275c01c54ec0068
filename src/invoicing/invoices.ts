// Reading tenant invoices. Tenant scoping happens here, in the query: a caller who does not see
// every tenant gets "not found" for another tenant's invoice, never its content.
import type { Principal } from '../auth/tokens.ts';
import { seesAllTenants } from '../auth/tokens.ts';
import type { Db } from '../platform/database.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.ts';
import { moneyJson } from '../money/money.ts';
import { periodOf, type Period } from './period.ts';

export interface ListInvoicesInput {
  period?: Period | undefined;
  status?: 'draft' | 'issued' | 'paid' | 'void' | undefined;
  tenantId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

interface Cursor {
  createdAt: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.createdAt !== 'string' || typeof c.id !== 'string' || Number.isNaN(Date.parse(c.createdAt))) throw new Error();
    return c;
  } catch {
    throw new ValidationError({ field: 'cursor', message: 'is not a cursor returned by this endpoint' });
  }
}

/** The tenant a caller may read, or null for staff who read every tenant. */
function tenantScope(principal: Principal, requested?: string): string | null {
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
    currency: invoice.currency,
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
  const cursor = input.cursor ? decodeCursor(input.cursor) : null;
  const rows = await db.tenantInvoice.findMany({
    where: {
      ...(tenantId ? { tenantId } : {}),
      ...(input.period ? { periodStart: input.period.start } : {}),
      ...(input.status ? { status: input.status } : {}),
      // createdAt <= cursor is redundant with the OR but is what lets the (…, created_at, id)
      // indexes start the backward scan at the cursor (see the 20261122080000 migration).
      ...(cursor
        ? {
            createdAt: { lte: new Date(cursor.createdAt) },
            OR: [{ createdAt: { lt: new Date(cursor.createdAt) } }, { createdAt: new Date(cursor.createdAt), id: { lt: cursor.id } }],
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
    next_cursor: rows.length > input.limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null,
  };
}

export async function getInvoice(db: Db, principal: Principal, id: string) {
  const tenantId = seesAllTenants(principal) ? null : principal.tenantId;
  if (!seesAllTenants(principal) && !tenantId) throw new ForbiddenError('this token is not bound to a tenant');
  const invoice = await db.tenantInvoice.findFirst({
    where: { id, ...(tenantId ? { tenantId } : {}) },
    include: { lines: { orderBy: { lineNo: 'asc' } }, tenant: { select: { slug: true, name: true } }, revisions: { orderBy: { revision: 'asc' } } },
  });
  if (!invoice) throw new NotFoundError('invoice');
  return {
    ...invoiceJson(invoice),
    lines: invoice.lines.map((l) => ({ ...lineJson(l), amount: moneyJson(l.amountMinor, invoice.currency) })),
    inputs: invoice.inputs,
    revisions: invoice.revisions.map((r) => ({
      revision: r.revision,
      forced_by: r.forcedBy,
      forced_at: r.forcedAt.toISOString(),
      reason: r.reason,
      previous_subtotal: moneyJson(r.previousSubtotalMinor, invoice.currency),
      previous_tax: moneyJson(r.previousTaxMinor, invoice.currency),
      previous_total: moneyJson(r.previousTotalMinor, invoice.currency),
      previous_lines: r.previousLines,
    })),
  };
}
