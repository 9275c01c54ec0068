// The tenant invoice lifecycle: draft → issued → paid, draft → void, issued → void. Every change
// is recorded with who made it (the token's sub), why and when. A paid invoice is corrected by an
// adjustment note, never voided.
import type { Tx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';

export type InvoiceStatus = 'draft' | 'issued' | 'paid' | 'void';

const ALLOWED: Record<InvoiceStatus, readonly InvoiceStatus[]> = {
  draft: ['issued', 'void'],
  issued: ['paid', 'void'],
  paid: [],
  void: [],
};

const WHY_NOT: Partial<Record<`${InvoiceStatus}->${InvoiceStatus}`, string>> = {
  'paid->void': 'a paid invoice cannot be voided; correct it with an adjustment note (a forced re-run with a reason)',
  'draft->paid': 'a draft must be issued before it can be paid',
  'void->issued': 'a void invoice stays void; reissue the period with month-close --force --reissue',
};

/** 422 naming both states. */
export class InvalidTransitionError extends DomainError {
  constructor(from: InvoiceStatus, to: InvoiceStatus) {
    super('invalid_transition', 422, `an invoice cannot go from ${from} to ${to}${WHY_NOT[`${from}->${to}`] ? `: ${WHY_NOT[`${from}->${to}`]}` : ''}`, {
      field: 'status',
      details: { from, to },
    });
  }
}

export function canTransition(from: InvoiceStatus, to: InvoiceStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(from: InvoiceStatus, to: InvoiceStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}

export async function recordStatusChange(
  tx: Tx,
  change: { invoiceId: string; from: InvoiceStatus | null; to: InvoiceStatus; actor: string; reason: string | null; at: Date },
): Promise<void> {
  await tx.invoiceStatusChange.create({
    data: { invoiceId: change.invoiceId, fromStatus: change.from, toStatus: change.to, actor: change.actor, reason: change.reason, at: change.at },
  });
}

/** Locks the invoice row for a status change; null when there is no such invoice. */
export async function lockInvoice(tx: Tx, invoiceId: string) {
  const [row] = await tx.$queryRaw<{ id: string; tenant_id: string; status: InvoiceStatus; period_start: Date }[]>`
    SELECT id::text, tenant_id::text, status::text AS status, period_start FROM tenant_invoices WHERE id = ${invoiceId}::uuid FOR UPDATE`;
  return row ?? null;
}
