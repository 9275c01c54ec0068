// The pure document builder: formatting in each currency's digits, marks, the ABN note, grouping.
import { describe, expect, it } from 'vitest';
import { buildInvoiceDocument, formatDocumentMoney, formatQuantity, formatRate, formatSignedMoney, formatUnitPrice, type InvoiceDocumentInput } from '../../src/documents/content.ts';

const base: InvoiceDocumentInput = {
  invoice: {
    status: 'issued',
    number: 'INV-2026-000001',
    currency: 'AUD',
    periodStart: new Date('2026-04-01T00:00:00Z'),
    periodEnd: new Date('2026-05-01T00:00:00Z'),
    issuedAt: new Date('2026-05-04T00:00:00Z'),
    dueAt: new Date('2026-05-18T00:00:00Z'),
    paidAt: null,
    voidedAt: null,
    voidReason: null,
    taxRate: '0.1000',
    subtotalMinor: 150000n,
    taxMinor: 15000n,
    totalMinor: 165000n,
    lines: [
      { lineNo: 1, kind: 'plan_base', deploymentId: null, description: 'Account fee', quantity: '1', unitPrice: '1000', amountMinor: 100000n },
      { lineNo: 2, kind: 'addon', deploymentId: 'd1', description: 'Add-on', quantity: '2.000000000000', unitPrice: '250.000000000000', amountMinor: 50000n },
      { lineNo: 3, kind: 'tax', deploymentId: null, description: 'GST', quantity: '1500', unitPrice: '0.1', amountMinor: 15000n },
    ],
  },
  supplier: { legal_name: 'Us Pty Ltd', abn: '53004085616', address: null, email: null },
  billedTo: { legal_name: 'Them Pty Ltd', name: 'Them', abn: null, email: null, address: null },
  deployments: [{ id: 'd1', slug: 'prod', displayName: 'Production' }],
};

describe('document content', () => {
  it('formats money in the currency’s own digits, grouped, signed where asked', () => {
    expect(formatDocumentMoney(123456789n, 'AUD')).toBe('1,234,567.89');
    expect(formatDocumentMoney(-5n, 'AUD')).toBe('-0.05');
    expect(formatDocumentMoney(1234567n, 'JPY')).toBe('1,234,567');
    expect(formatDocumentMoney(1234567n, 'KWD')).toBe('1,234.567');
    expect(formatSignedMoney(150n, 'AUD')).toBe('+1.50');
    expect(formatSignedMoney(0n, 'AUD')).toBe('0.00');
    expect(formatUnitPrice('0.000000012500', 'AUD')).toBe('0.0000000125');
    expect(formatUnitPrice('7.5', 'KWD')).toBe('7.500');
    expect(formatUnitPrice('5000', 'JPY')).toBe('5,000');
    expect(formatQuantity('672.500000000000')).toBe('672.5');
    expect(formatRate('0.1000')).toBe('10%');
    expect(formatRate('0.0825')).toBe('8.25%');
  });

  it('groups lines by deployment (account lines last), keeps GST to the totals, and notes a missing ABN at 1,000 or more', () => {
    const doc = buildInvoiceDocument(base);
    expect(doc.tables.map((t) => [t.heading, t.rows.map((r) => r[0])])).toEqual([
      ['Deployment Production (prod)', ['Add-on']],
      ['Account', ['Account fee']],
    ]);
    expect(doc.tables[0]!.rows[0]).toEqual(['Add-on', '2', '250.00', '500.00']);
    expect(doc.totals.map((t) => t.value)).toEqual(['1,500.00', '150.00', '1,650.00']);
    expect(doc.customer.lines).toEqual(['Them Pty Ltd', 'trading as Them']);
    expect(doc.notes.join(' ')).toContain('ABN is required');
    expect(doc.mark).toBeNull();
    expect(doc.facts.find((f) => f.label === 'Payment terms')!.value).toContain('14 days');
    const small = buildInvoiceDocument({ ...base, invoice: { ...base.invoice, totalMinor: 99999n } });
    expect(small.notes).toEqual([]);
  });

  it('a draft shows no number even if one were passed, and a DRAFT mark; a void one a VOID mark', () => {
    const draft = buildInvoiceDocument({ ...base, invoice: { ...base.invoice, status: 'draft' } });
    expect(draft.mark).toBe('DRAFT');
    expect(JSON.stringify(draft)).not.toContain('INV-2026-000001');
    expect(draft.fileName).toBe('draft-2026-04');
    const voided = buildInvoiceDocument({ ...base, invoice: { ...base.invoice, status: 'void', voidedAt: new Date('2026-05-06T00:00:00Z'), voidReason: 'wrong tenant' } });
    expect(voided.mark).toBe('VOID');
    expect(voided.facts.find((f) => f.label === 'Void')!.value).toBe('6 May 2026 — wrong tenant');
  });
});
