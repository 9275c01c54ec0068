// What finance receives for one document version (pure). Amounts are integer minor units;
// net + tax = gross and the lines sum to net. For an adjustment note the amounts are the deltas
// (negative for a credit) and each line carries its delta.
import { minorUnits } from '../costs/finance-client.ts';
import { periodOf } from '../invoicing/period.ts';
import type { BilledTo } from './parties.ts';

export const SOURCE = 'tenant-invoicing';

export interface PayloadLine {
  kind: string;
  description: string;
  deploymentId: string | null;
  resourceKind: string | null;
  quantity: string;
  unitPrice: string;
  amountMinor: bigint;
}

export interface InvoiceDocument {
  id: string;
  number: string;
  status: 'issued' | 'void';
  tenantId: string;
  billedTo: BilledTo;
  periodStart: Date;
  currency: string;
  issuedAt: Date;
  dueAt: Date;
  taxRate: string;
  subtotalMinor: bigint;
  taxMinor: bigint;
  /** Without the tax line. */
  lines: PayloadLine[];
}

export interface AdjustmentNoteDocument extends Omit<InvoiceDocument, 'status'> {
  invoiceId: string;
}

function body(doc: InvoiceDocument | AdjustmentNoteDocument) {
  const net = doc.lines.reduce((sum, l) => sum + l.amountMinor, 0n);
  if (net !== doc.subtotalMinor) throw new RangeError(`document ${doc.id}: lines sum to ${net}, net is ${doc.subtotalMinor}`);
  return {
    number: doc.number,
    tenant_id: doc.tenantId,
    tenant_name: doc.billedTo.legal_name,
    tenant_abn: doc.billedTo.abn,
    period: periodOf(doc.periodStart).key,
    currency: doc.currency,
    issued_at: doc.issuedAt.toISOString(),
    due_at: doc.dueAt.toISOString(),
    tax_rate: doc.taxRate,
    amount_net_minor: minorUnits(doc.subtotalMinor, 'amount_net_minor'),
    amount_tax_minor: minorUnits(doc.taxMinor, 'amount_tax_minor'),
    amount_gross_minor: minorUnits(doc.subtotalMinor + doc.taxMinor, 'amount_gross_minor'),
    lines: doc.lines.map((l, i) => ({
      kind: l.kind,
      description: l.description,
      deployment_id: l.deploymentId,
      resource_kind: l.resourceKind,
      quantity: l.quantity,
      unit_price: l.unitPrice,
      amount_minor: minorUnits(l.amountMinor, `lines[${i}].amount_minor`),
    })),
  };
}

export function invoicePayload(doc: InvoiceDocument) {
  return { source: SOURCE, document_type: 'invoice' as const, external_id: doc.id, status: doc.status, ...body(doc) };
}

export function adjustmentNotePayload(doc: AdjustmentNoteDocument) {
  return { source: SOURCE, document_type: 'adjustment_note' as const, external_id: doc.id, original_external_id: doc.invoiceId, status: 'issued' as const, ...body(doc) };
}

export type ReceivablePayload = ReturnType<typeof invoicePayload> | ReturnType<typeof adjustmentNotePayload>;
