// issued → paid, with the payment's date and reference. Marking a paid invoice paid again
// changes nothing and says so.
import type { PrismaClient } from '../platform/database.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';
import { assertTransition, lockInvoice, recordStatusChange } from './lifecycle.ts';

export async function markInvoicePaid(
  deps: { prisma: PrismaClient; now: Date },
  input: { invoiceId: string; paidAt: Date; reference: string; actor: string },
): Promise<{ outcome: 'paid' | 'unchanged' }> {
  const { now } = deps;
  if (input.paidAt > now) throw new ValidationError({ field: 'paid_at', message: 'is in the future' });
  return deps.prisma.$transaction(async (tx) => {
    const locked = await lockInvoice(tx, input.invoiceId);
    if (!locked) throw new NotFoundError('invoice');
    if (locked.status === 'paid') return { outcome: 'unchanged' as const };
    assertTransition(locked.status, 'paid');
    const invoice = await tx.tenantInvoice.findUniqueOrThrow({ where: { id: input.invoiceId }, select: { issuedAt: true } });
    if (invoice.issuedAt && input.paidAt < invoice.issuedAt) {
      throw new ValidationError({ field: 'paid_at', message: `is before the invoice was issued (${invoice.issuedAt.toISOString()})` });
    }
    await tx.tenantInvoice.update({ where: { id: input.invoiceId }, data: { status: 'paid', paidAt: input.paidAt, paymentReference: input.reference, updatedAt: now } });
    await recordStatusChange(tx, { invoiceId: input.invoiceId, from: 'issued', to: 'paid', actor: input.actor, reason: `payment ${input.reference}`, at: now });
    return { outcome: 'paid' as const };
  });
}
