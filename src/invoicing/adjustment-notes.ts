// Reading adjustment notes, scoped like invoices: a caller who does not see every tenant gets
// "not found" for another tenant's note.
import type { Principal } from '../auth/tokens.ts';
import { seesAllTenants } from '../auth/tokens.ts';
import type { Db } from '../platform/database.ts';
import { ForbiddenError, NotFoundError } from '../platform/errors.ts';
import { moneyJson } from '../money/money.ts';
import { decimalString, encodeCursor, type PageCursor } from '../http/request-support.ts';
import type { AdjustmentNote, AdjustmentNoteLine } from '../generated/prisma/client.ts';
import { deliveryJson, tenantScope } from './invoices.ts';
import { periodOf, type Period } from './period.ts';

type NoteRow = AdjustmentNote & { invoice: { number: string | null; issuedAt: Date | null }; tenant: { slug: string; name: string } };

export function adjustmentNoteJson(n: NoteRow) {
  const c = n.currency;
  return {
    id: n.id,
    number: n.number,
    invoice_id: n.invoiceId,
    invoice_number: n.invoice.number,
    invoice_issued_at: n.invoice.issuedAt?.toISOString() ?? null,
    tenant_id: n.tenantId,
    tenant_slug: n.tenant.slug,
    tenant_name: n.tenant.name,
    period: periodOf(n.periodStart).key,
    currency: c,
    reason: n.reason,
    kind: n.totalDeltaMinor < 0n ? ('credit' as const) : ('debit' as const),
    tax_rate: decimalString(n.taxRate),
    subtotal_delta: moneyJson(n.subtotalDeltaMinor, c),
    tax_delta: moneyJson(n.taxDeltaMinor, c),
    total_delta: moneyJson(n.totalDeltaMinor, c),
    issued_at: n.issuedAt.toISOString(),
    created_by: n.createdBy,
    inputs_hash: n.inputsHash,
  };
}

function lineJson(l: AdjustmentNoteLine, currency: string) {
  return {
    line_no: l.lineNo,
    kind: l.kind,
    deployment_id: l.deploymentId,
    resource_kind: l.resourceKind,
    description: l.description,
    quantity: decimalString(l.quantity),
    unit_price: decimalString(l.unitPrice),
    old_amount: moneyJson(l.oldAmountMinor, currency),
    new_amount: moneyJson(l.newAmountMinor, currency),
    delta: moneyJson(l.deltaMinor, currency),
  };
}

const related = { invoice: { select: { number: true, issuedAt: true } }, tenant: { select: { slug: true, name: true } } } as const;

export async function listAdjustmentNotes(
  db: Db,
  principal: Principal,
  input: { period?: Period | undefined; tenantId?: string | undefined; invoiceId?: string | undefined; limit: number; cursor?: PageCursor | undefined },
) {
  const tenantId = tenantScope(principal, input.tenantId);
  const cursor = input.cursor;
  const rows = await db.adjustmentNote.findMany({
    where: {
      ...(tenantId ? { tenantId } : {}),
      ...(input.period ? { periodStart: input.period.start } : {}),
      ...(input.invoiceId ? { invoiceId: input.invoiceId } : {}),
      ...(cursor ? { OR: [{ issuedAt: { lt: cursor.createdAt } }, { issuedAt: cursor.createdAt, id: { lt: cursor.id } }] } : {}),
    },
    include: related,
    orderBy: [{ issuedAt: 'desc' }, { id: 'desc' }],
    take: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    data: page.map(adjustmentNoteJson),
    next_cursor: rows.length > input.limit && last ? encodeCursor({ createdAt: last.issuedAt, id: last.id }) : null,
  };
}

export async function getAdjustmentNote(db: Db, principal: Principal, id: string) {
  const tenantId = seesAllTenants(principal) ? null : principal.tenantId;
  if (!seesAllTenants(principal) && !tenantId) throw new ForbiddenError('this token is not bound to a tenant');
  const note = await db.adjustmentNote.findFirst({
    where: { id, ...(tenantId ? { tenantId } : {}) },
    include: { ...related, lines: { orderBy: { lineNo: 'asc' } } },
  });
  if (!note) throw new NotFoundError('adjustment_note');
  const deliveries = await db.receivableDelivery.findMany({ where: { documentId: note.id }, orderBy: { version: 'asc' } });
  return {
    ...adjustmentNoteJson(note),
    lines: note.lines.map((l) => lineJson(l, note.currency)),
    billed_to: note.billedTo,
    supplier: note.supplier,
    inputs: note.inputs,
    deliveries: deliveries.map(deliveryJson),
  };
}
