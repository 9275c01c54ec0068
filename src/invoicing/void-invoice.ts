// Voiding: a draft or an issued invoice becomes void (reason required). A void invoice keeps its
// number; voiding an issued one queues its receivable again, as void, so finance reverses it.
// A paid invoice is never voided: it is corrected by an adjustment note.
import type { PrismaClient } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { invoicePayload } from '../receivables/payload.ts';
import { INVOICE_VOID_VERSION, recordDelivery } from '../receivables/outbox.ts';
import type { ReceivablesSettings } from '../receivables/settings.ts';
import { invoiceDocument } from './issue-invoice.ts';
import { assertTransition, lockInvoice, recordStatusChange } from './lifecycle.ts';

export async function voidInvoice(
  deps: { prisma: PrismaClient; now: Date; receivables: ReceivablesSettings },
  input: { invoiceId: string; reason: string; actor: string },
): Promise<{ outcome: 'voided' | 'unchanged'; delivery: { id: string; state: 'pending' | 'skipped' } | null }> {
  const { now } = deps;
  return deps.prisma.$transaction(async (tx) => {
    const locked = await lockInvoice(tx, input.invoiceId);
    if (!locked) throw new NotFoundError('invoice');
    if (locked.status === 'void') return { outcome: 'unchanged' as const, delivery: null };
    assertTransition(locked.status, 'void');
    await tx.tenantInvoice.update({ where: { id: input.invoiceId }, data: { status: 'void', voidedAt: now, voidReason: input.reason, updatedAt: now } });
    await recordStatusChange(tx, { invoiceId: input.invoiceId, from: locked.status, to: 'void', actor: input.actor, reason: input.reason, at: now });
    // A draft was never delivered, so there is nothing to reverse.
    const delivery =
      locked.status === 'issued'
        ? await recordDelivery(tx, deps.receivables, {
            documentType: 'invoice',
            documentId: input.invoiceId,
            version: INVOICE_VOID_VERSION,
            invoiceId: input.invoiceId,
            tenantId: locked.tenant_id,
            payload: invoicePayload(await invoiceDocument(tx, input.invoiceId, 'void')),
          })
        : null;
    return { outcome: 'voided' as const, delivery };
  });
}
