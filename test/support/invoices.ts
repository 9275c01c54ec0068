// Issued invoices and adjustment notes seeded directly (the issuing code has its own tests): the
// document, export and report tests need exact stored rows to check against.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../src/platform/database.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';

export interface LineSeed {
  kind: 'plan_base' | 'addon' | 'overage' | 'llm_usage' | 'tax';
  deploymentId?: string | null;
  description: string;
  quantity?: string;
  unitPrice?: string;
  amountMinor: bigint;
}

export const SUPPLIER = { legal_name: 'Cloud Platform Holdings Pty Ltd', abn: '53004085616', address: '10 Supplier Road, Melbourne VIC 3000', email: 'billing@platform.example' };

export async function seedInvoice(
  prisma: PrismaClient,
  o: {
    tenantId: string;
    period: string;
    status?: 'draft' | 'issued' | 'paid' | 'void';
    currency?: string;
    number?: string | null;
    issuedAt?: string;
    dueAt?: string;
    taxRate?: string;
    taxMinor: bigint;
    lines: LineSeed[];
    billedTo?: Record<string, string | null> | null;
    supplier?: Record<string, string | null> | null;
    voidReason?: string;
  },
) {
  const period = parsePeriod(o.period);
  const status = o.status ?? 'issued';
  const subtotal = o.lines.reduce((s, l) => s + l.amountMinor, 0n);
  const lines = [...o.lines, { kind: 'tax' as const, description: 'GST', quantity: '1', unitPrice: '0', amountMinor: o.taxMinor, deploymentId: null }];
  const issued = status !== 'draft';
  return prisma.tenantInvoice.create({
    data: {
      tenantId: o.tenantId,
      periodStart: period.start,
      periodEnd: period.end,
      status,
      currency: o.currency ?? 'AUD',
      subtotalMinor: subtotal,
      taxMinor: o.taxMinor,
      totalMinor: subtotal + o.taxMinor,
      inputs: {},
      inputsHash: randomUUID(),
      computedAt: period.end,
      taxRate: o.taxRate ?? '0.1',
      number: issued ? (o.number ?? `INV-2026-${randomUUID().slice(0, 6)}`) : null,
      issuedAt: issued ? new Date(o.issuedAt ?? '2026-05-04T00:00:00Z') : null,
      dueAt: issued ? new Date(o.dueAt ?? '2026-05-18T00:00:00Z') : null,
      voidedAt: status === 'void' ? new Date('2026-05-06T00:00:00Z') : null,
      voidReason: status === 'void' ? (o.voidReason ?? 'issued in error') : null,
      ...(o.billedTo ? { billedTo: o.billedTo } : {}),
      ...(o.supplier ? { supplier: o.supplier } : issued ? { supplier: SUPPLIER } : {}),
      lines: {
        create: lines.map((l, i) => ({
          lineNo: i + 1,
          kind: l.kind,
          deploymentId: l.deploymentId ?? null,
          description: l.description,
          quantity: l.quantity ?? '1',
          unitPrice: l.unitPrice ?? '0',
          amountMinor: l.amountMinor,
        })),
      },
    },
    include: { lines: { orderBy: { lineNo: 'asc' } } },
  });
}

export interface NoteLineSeed {
  kind: 'plan_base' | 'addon' | 'overage' | 'llm_usage' | 'tax';
  deploymentId?: string | null;
  description: string;
  oldAmountMinor: bigint;
  newAmountMinor: bigint;
}

export async function seedAdjustmentNote(
  prisma: PrismaClient,
  o: { invoiceId: string; number?: string; reason?: string; taxDeltaMinor: bigint; lines: NoteLineSeed[]; issuedAt?: string; billedTo?: Record<string, string | null> },
) {
  const invoice = await prisma.tenantInvoice.findUniqueOrThrow({ where: { id: o.invoiceId }, include: { tenant: true } });
  const subtotalDelta = o.lines.reduce((s, l) => s + (l.newAmountMinor - l.oldAmountMinor), 0n);
  return prisma.adjustmentNote.create({
    data: {
      invoiceId: invoice.id,
      tenantId: invoice.tenantId,
      periodStart: invoice.periodStart,
      number: o.number ?? `AN-2026-${randomUUID().slice(0, 6)}`,
      currency: invoice.currency,
      reason: o.reason ?? 'late LLM usage',
      taxRate: invoice.taxRate,
      subtotalDeltaMinor: subtotalDelta,
      taxDeltaMinor: o.taxDeltaMinor,
      totalDeltaMinor: subtotalDelta + o.taxDeltaMinor,
      inputs: {},
      inputsHash: randomUUID(),
      createdBy: 'test',
      issuedAt: new Date(o.issuedAt ?? '2026-05-20T00:00:00Z'),
      billedTo: o.billedTo ?? { legal_name: invoice.tenant.legalName, name: invoice.tenant.name, abn: invoice.tenant.abn, email: invoice.tenant.billingEmail, address: invoice.tenant.billingAddress },
      supplier: SUPPLIER,
      lines: {
        create: o.lines.map((l, i) => ({
          lineNo: i + 1,
          lineKey: `${l.kind}:${l.deploymentId ?? '-'}:${i}`,
          kind: l.kind,
          deploymentId: l.deploymentId ?? null,
          description: l.description,
          quantity: '1',
          unitPrice: '0',
          oldAmountMinor: l.oldAmountMinor,
          newAmountMinor: l.newAmountMinor,
          deltaMinor: l.newAmountMinor - l.oldAmountMinor,
        })),
      },
    },
    include: { lines: { orderBy: { lineNo: 'asc' } } },
  });
}

/**
 * The tenant's invoices whose stored inputs are not the exact text their inputs_hash hashes (the
 * column is json: PostgreSQL keeps the text as written). Empty when every write path stores the
 * canonical text.
 */
export async function inputsNotMatchingHash(prisma: PrismaClient, tenantId: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM tenant_invoices
     WHERE tenant_id = ${tenantId}::uuid AND encode(sha256(convert_to(inputs::text, 'UTF8')), 'hex') <> inputs_hash`;
  return rows.map((r) => r.id);
}
