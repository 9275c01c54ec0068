// Issuing: a draft becomes a tax invoice. In one transaction the invoice gets its gap-free number,
// issued_at, due_at, the parties as billed, status `issued`, a status row, and its receivable in
// the outbox with the push job queued (fromPrisma). From then on its lines and totals never change.
import { addDays } from 'date-fns/addDays';
import { utc } from '@date-fns/utc';
import type { Logger } from 'pino';
import type { PrismaClient, Tx } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { assertCanIssue, billedTo, type BilledTo } from '../receivables/parties.ts';
import { invoicePayload, type InvoiceDocument } from '../receivables/payload.ts';
import { INVOICE_ISSUED_VERSION, recordDelivery } from '../receivables/outbox.ts';
import type { ReceivablesSettings } from '../receivables/settings.ts';
import { nextDocumentNumber } from './document-numbers.ts';
import { InvalidTransitionError, lockInvoice, recordStatusChange } from './lifecycle.ts';
import { invoiceIssues } from '../platform/metrics.ts';

export interface IssueDeps {
  prisma: PrismaClient;
  now: Date;
  receivables: ReceivablesSettings;
  logger?: Logger | undefined;
}

export interface IssueResult {
  outcome: 'issued' | 'unchanged';
  invoiceId: string;
  number: string | null;
  status: string;
  /** The receivable recorded by this issue (null when unchanged). */
  delivery: { id: string; state: 'pending' | 'skipped' } | null;
}

/** The stored invoice as finance receives it (tax line excluded: the lines sum to net). */
export async function invoiceDocument(tx: Tx, invoiceId: string, status: 'issued' | 'void'): Promise<InvoiceDocument> {
  const invoice = await tx.tenantInvoice.findUniqueOrThrow({ where: { id: invoiceId }, include: { lines: { orderBy: { lineNo: 'asc' } } } });
  if (!invoice.number || !invoice.issuedAt || !invoice.dueAt || !invoice.billedTo) throw new Error(`invoice ${invoiceId} has not been issued`);
  return {
    id: invoice.id,
    number: invoice.number,
    status,
    tenantId: invoice.tenantId,
    billedTo: invoice.billedTo as unknown as BilledTo,
    periodStart: invoice.periodStart,
    currency: invoice.currency,
    issuedAt: invoice.issuedAt,
    dueAt: invoice.dueAt,
    taxRate: invoice.taxRate.toString(),
    subtotalMinor: invoice.subtotalMinor,
    taxMinor: invoice.taxMinor,
    lines: invoice.lines
      .filter((l) => l.kind !== 'tax')
      .map((l) => ({
        kind: l.kind,
        description: l.description,
        deploymentId: l.deploymentId,
        resourceKind: l.resourceKind,
        quantity: l.quantity.toString(),
        unitPrice: l.unitPrice.toString(),
        amountMinor: l.amountMinor,
      })),
  };
}

/** Issues one draft; an invoice already issued (or paid) is `unchanged`, a void one is refused. */
export async function issueInvoice(deps: IssueDeps, input: { invoiceId: string; actor: string }): Promise<IssueResult> {
  assertCanIssue(deps.receivables.config);
  const { now, receivables } = deps;
  const result = await deps.prisma.$transaction(
    async (tx): Promise<IssueResult> => {
      const locked = await lockInvoice(tx, input.invoiceId);
      if (!locked) throw new NotFoundError('invoice');
      if (locked.status === 'issued' || locked.status === 'paid') {
        const current = await tx.tenantInvoice.findUniqueOrThrow({ where: { id: input.invoiceId }, select: { number: true } });
        return { outcome: 'unchanged', invoiceId: input.invoiceId, number: current.number, status: locked.status, delivery: null };
      }
      if (locked.status === 'void') throw new InvalidTransitionError('void', 'issued');

      const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: locked.tenant_id } });
      const number = await nextDocumentNumber(tx, 'invoice', receivables.invoicePrefix, now);
      await tx.tenantInvoice.update({
        where: { id: input.invoiceId },
        data: {
          status: 'issued',
          number,
          issuedAt: now,
          dueAt: addDays(now, receivables.paymentTermsDays, { in: utc }),
          billedTo: billedTo(tenant) as object,
          supplier: receivables.supplier as object,
          updatedAt: now,
        },
      });
      await recordStatusChange(tx, { invoiceId: input.invoiceId, from: 'draft', to: 'issued', actor: input.actor, reason: null, at: now });
      const delivery = await recordDelivery(tx, receivables, {
        documentType: 'invoice',
        documentId: input.invoiceId,
        version: INVOICE_ISSUED_VERSION,
        invoiceId: input.invoiceId,
        tenantId: locked.tenant_id,
        payload: invoicePayload(await invoiceDocument(tx, input.invoiceId, 'issued')),
      });
      return { outcome: 'issued', invoiceId: input.invoiceId, number, status: 'issued', delivery };
    },
    { timeout: 30_000, maxWait: 30_000 },
  );
  invoiceIssues.inc({ outcome: result.outcome });
  return result;
}
