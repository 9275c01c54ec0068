// Invoice and adjustment-note CSV export: a generated 10,000-invoice period streamed through the
// HTTP route and parsed back: every row against the stored rows (memory is measured by
// `npm run bench:export`, not here). Plus access, ?lines=false and adjustment notes.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { useTestApp } from '../support/app.ts';
import { seedTenant } from '../support/seed.ts';
import { seedAdjustmentNote, seedInvoice } from '../support/invoices.ts';
import { generateInvoicePeriod } from '../../scripts/lib/export-fixture.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';

const ctx = useTestApp();
const N = 10_000;

beforeAll(async () => {
  await generateInvoicePeriod(ctx().db.prisma, { prefix: 'exp', period: parsePeriod('2026-02'), count: N });
}, 120_000);

const get = async (url: string, role: 'finance' | 'platform_admin' | 'tenant_admin' = 'finance') => ctx().app.inject({ method: 'GET', url, headers: await ctx().auth(role, role === 'tenant_admin' ? '00000000-0000-4000-8000-000000000000' : null) });
const cents = (minor: bigint) => `${minor / 100n}.${(minor % 100n).toString().padStart(2, '0')}`;

describe('invoice export', () => {
  it('one row per line for 10,000 invoices, every amount equal to the stored one', async () => {
    const res = await get('/api/v1/invoices/export?period=2026-02&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(3 * N);
    const stored = await ctx().db.prisma.$queryRaw<{ number: string; line_no: number; amount_minor: bigint; total_minor: bigint }[]>`
      SELECT i.number, l.line_no, l.amount_minor, i.total_minor FROM tenant_invoice_lines l JOIN tenant_invoices i ON i.id = l.invoice_id WHERE i.period_start = '2026-02-01T00:00:00Z'`;
    const expected = new Map(stored.map((s) => [`${s.number}#${s.line_no}`, [cents(s.amount_minor), cents(s.total_minor)]]));
    for (const row of rows) expect([row.amount, row.invoice_total]).toEqual(expected.get(`${row.invoice_number}#${row.line_no}`));
    const first = rows.find((x) => x.invoice_number === 'exp-000123' && x.line_no === '2')!;
    expect(first).toMatchObject({ status: 'issued', tenant_slug: 'exp-123', kind: 'overage', quantity: '123', unit_price: '0.01', amount: '1.23', currency: 'AUD', invoice_subtotal: '51.23', invoice_tax: '5.12', invoice_total: '56.35', period: '2026-02' });
  });

  it('?lines=false is one row per invoice; the totals add up to the stored sum', async () => {
    const rows = parse((await get('/api/v1/invoices/export?period=2026-02&lines=false', 'platform_admin')).body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.invoice_number)).size).toBe(N);
    const [row] = await ctx().db.prisma.$queryRaw<{ sum: bigint }[]>`SELECT SUM(total_minor)::bigint AS sum FROM tenant_invoices WHERE period_start = '2026-02-01T00:00:00Z'`;
    const exported = rows.reduce((s, r) => s + BigInt(r.invoice_total!.replace('.', '')), 0n);
    expect(exported).toBe(row!.sum);
    expect(Object.keys(rows[0]!)).not.toContain('line_no');
  });

  it('finance and platform_admin only; a bad period names the field', async () => {
    expect((await get('/api/v1/invoices/export?period=2026-02', 'tenant_admin')).statusCode).toBe(403);
    const bad = await get('/api/v1/invoices/export?period=2026-2');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'period' });
    const empty = await get('/api/v1/invoices/export?period=2031-01');
    expect(empty.body.trim().split('\n')).toHaveLength(1); // the header alone
  });
});

describe('adjustment note export', () => {
  it('one row per changed line, and per note with ?lines=false', async () => {
    const { prisma } = ctx().db;
    const tenant = await seedTenant(prisma, { slug: 'notes-tenant' });
    const invoice = await seedInvoice(prisma, { tenantId: tenant.id, period: '2026-05', number: 'INV-2026-777777', taxMinor: 500n, lines: [{ kind: 'plan_base', description: 'Plan', amountMinor: 5000n }, { kind: 'addon', description: 'Storage, "50 GB"', amountMinor: 750n }] });
    await seedAdjustmentNote(prisma, {
      invoiceId: invoice.id,
      number: 'AN-2026-000009',
      reason: 'Add-on removed, late usage',
      taxDeltaMinor: -75n,
      lines: [{ kind: 'addon', description: 'Storage, "50 GB"', oldAmountMinor: 750n, newAmountMinor: 0n }],
    });
    const rows = parse((await get('/api/v1/adjustment-notes/export?period=2026-05')).body, { columns: true }) as Record<string, string>[];
    expect(rows).toEqual([
      expect.objectContaining({ note_number: 'AN-2026-000009', invoice_number: 'INV-2026-777777', tenant_slug: 'notes-tenant', description: 'Storage, "50 GB"', old_amount: '7.50', new_amount: '0.00', delta: '-7.50', note_subtotal_delta: '-7.50', note_tax_delta: '-0.75', note_total_delta: '-8.25', reason: 'Add-on removed, late usage' }),
    ]);
    const perNote = parse((await get('/api/v1/adjustment-notes/export?period=2026-05&lines=false')).body, { columns: true }) as Record<string, string>[];
    expect(perNote).toHaveLength(1);
    expect(perNote[0]).not.toHaveProperty('delta');
  });
});
