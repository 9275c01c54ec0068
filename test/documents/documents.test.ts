// Tax invoice and adjustment note documents through the HTTP API: the PDF's text (extracted with
// unpdf, no system tools) and the HTML (parsed with node-html-parser) show every field the ATO
// requires and every amount exactly as stored; drafts and void invoices are marked; another
// tenant's document is 404.
import { beforeAll, describe, expect, it } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import { parse } from 'node-html-parser';
import { useTestApp } from '../support/app.ts';
import { seedTenant } from '../support/seed.ts';
import { SUPPLIER, seedAdjustmentNote, seedInvoice } from '../support/invoices.ts';

const ctx = useTestApp({ env: { SUPPLIER_LEGAL_NAME: 'Configured Supplier Pty Ltd', SUPPLIER_ABN: '83914571673' } });

/** Independent money formatting: minor units with `digits` decimals, thousands grouped. */
function money(minor: bigint, digits: number): string {
  const negative = minor < 0n;
  const s = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = s.slice(0, s.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${whole}${digits ? `.${s.slice(s.length - digits)}` : ''}`;
}
const signed = (minor: bigint, digits: number) => `${minor > 0n ? '+' : ''}${money(minor, digits)}`;
const longDate = (iso: string) => new Intl.DateTimeFormat('en-AU', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(iso));

async function pdfText(body: Buffer): Promise<string> {
  const pdf = await getDocumentProxy(new Uint8Array(body));
  const { text } = await extractText(pdf, { mergePages: true });
  return text.replace(/\s+/g, ' ');
}

let tenantA: { id: string };
let tenantB: { id: string };
let issuedId: string;
let draftId: string;
let voidId: string;
let noteId: string;
let deploymentA: { id: string };
let deploymentB: { id: string };
const billedTo = { legal_name: 'Zoë Analytics Pty Ltd', name: 'Zoë', abn: '51824753556', email: 'accounts@zoe.example', address: '1 Example Street, Sydney NSW 2000' };
const issuedLines = [
  { kind: 'plan_base' as const, description: 'Studio plan — base', quantity: '1', unitPrice: '1200', amountMinor: 120000n },
  { kind: 'overage' as const, description: 'Droplet hours over allowance', quantity: '672', unitPrice: '0.01', amountMinor: 672n },
  { kind: 'llm_usage' as const, description: 'LLM usage', quantity: '1234', unitPrice: '0.00125', amountMinor: 154n },
  { kind: 'addon' as const, description: 'Storage 50 GB', quantity: '2', unitPrice: '7.5', amountMinor: 1500n },
];

beforeAll(async () => {
  const { prisma } = ctx().db;
  tenantA = await seedTenant(prisma, { slug: 'zoe' });
  await prisma.tenant.update({ where: { id: tenantA.id }, data: { legalName: 'Zoë Analytics Pty Ltd', abn: '51824753556', billingAddress: 'New address, Perth WA 6000' } });
  tenantB = await seedTenant(prisma, { slug: 'other', currency: 'JPY' });
  deploymentA = await prisma.deployment.create({ data: { tenantId: tenantA.id, slug: 'prod', displayName: 'Production', region: 'syd1' } });
  deploymentB = await prisma.deployment.create({ data: { tenantId: tenantA.id, slug: 'staging', displayName: 'Staging', region: 'syd1' } });
  const lines = issuedLines.map((l, i) => ({ ...l, deploymentId: i < 3 ? deploymentA.id : deploymentB.id }));
  const issued = await seedInvoice(prisma, { tenantId: tenantA.id, period: '2026-04', number: 'INV-2026-000007', taxMinor: 12233n, lines, billedTo, issuedAt: '2026-05-04T00:00:00Z', dueAt: '2026-05-18T00:00:00Z' });
  issuedId = issued.id;
  draftId = (await seedInvoice(prisma, { tenantId: tenantB.id, period: '2026-04', status: 'draft', currency: 'JPY', taxMinor: 500n, lines: [{ kind: 'plan_base', description: 'Plan', quantity: '1', unitPrice: '5000', amountMinor: 5000n }] })).id;
  voidId = (await seedInvoice(prisma, { tenantId: tenantA.id, period: '2026-03', status: 'void', currency: 'KWD', number: 'INV-2026-000003', taxMinor: 1235n, lines: [{ kind: 'plan_base', description: 'Plan', quantity: '1', unitPrice: '12.345', amountMinor: 12345n, deploymentId: deploymentA.id }], billedTo })).id;
  noteId = (
    await seedAdjustmentNote(prisma, {
      invoiceId: issuedId,
      number: 'AN-2026-000002',
      reason: 'Late LLM usage billed; storage add-on removed',
      taxDeltaMinor: -135n,
      lines: [
        { kind: 'llm_usage', deploymentId: deploymentA.id, description: 'LLM usage', oldAmountMinor: 154n, newAmountMinor: 304n },
        { kind: 'addon', deploymentId: deploymentB.id, description: 'Storage 50 GB', oldAmountMinor: 1500n, newAmountMinor: 0n },
      ],
    })
  ).id;
});

const get = async (url: string, roles: Parameters<ReturnType<typeof ctx>['auth']>[0] = 'finance', tenantId: string | null = null) =>
  ctx().app.inject({ method: 'GET', url, headers: await ctx().auth(roles, tenantId) });

describe('tax invoice document', () => {
  it('the PDF shows every required field and every amount as stored', async () => {
    const res = await get(`/api/v1/invoices/${issuedId}/document`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toContain('INV-2026-000007.pdf');
    const text = await pdfText(res.rawPayload);
    const stored = await ctx().db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: issuedId }, include: { lines: true } });
    expect(text).toContain('Tax invoice');
    expect(text).toContain(SUPPLIER.legal_name);
    expect(text).toContain('ABN 53 004 085 616');
    expect(text).toContain('INV-2026-000007');
    expect(text).toContain(`Issue date ${longDate('2026-05-04')}`);
    expect(text).toContain(`Due date ${longDate('2026-05-18')}`);
    expect(text).toContain('14 days');
    expect(text).toContain('April 2026');
    // The tenant as billed (frozen), not its current address; its ABN, since the total is over 1,000.
    expect(stored.totalMinor).toBeGreaterThanOrEqual(100000n);
    expect(text).toContain('Zoë Analytics Pty Ltd');
    expect(text).toContain('ABN 51 824 753 556');
    expect(text).toContain('1 Example Street');
    expect(text).not.toContain('Perth');
    expect(text).toContain('Deployment Production (prod)');
    expect(text).toContain('Deployment Staging (staging)');
    for (const l of stored.lines.filter((l) => l.kind !== 'tax')) {
      expect(text).toContain(l.description);
      expect(text).toContain(money(l.amountMinor, 2));
    }
    expect(text).toContain('0.00125'); // the exact unit price
    expect(text).toContain('672');
    expect(text).toContain(`Subtotal (excluding GST) ${money(stored.subtotalMinor, 2)}`);
    expect(text).toContain(`GST (10%) ${money(stored.taxMinor, 2)}`);
    expect(text).toContain(`Total including GST (AUD) ${money(stored.totalMinor, 2)}`);
    expect(money(stored.totalMinor, 2)).toBe('1,345.59');
    expect(text).not.toContain('DRAFT');
    expect(text).not.toContain('VOID');
  });

  it('the HTML shows the same, parsed', async () => {
    const res = await get(`/api/v1/invoices/${issuedId}/document?format=html`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    const root = parse(res.body);
    expect(root.querySelector('#title')?.text).toBe('Tax invoice');
    expect(root.querySelector('#mark')).toBeNull();
    const facts = Object.fromEntries(root.querySelectorAll('dl.facts dt').map((dt) => [dt.text, dt.nextElementSibling?.text]));
    expect(facts['Invoice number']).toBe('INV-2026-000007');
    expect(facts['Issue date']).toBe(longDate('2026-05-04'));
    expect(facts['Due date']).toBe(longDate('2026-05-18'));
    expect(root.querySelector('.supplier')?.text).toContain('ABN 53 004 085 616');
    expect(root.querySelector('.customer')?.text).toContain('ABN 51 824 753 556');
    const rows = root.querySelectorAll('table.lines tbody tr').map((tr) => tr.querySelectorAll('td').map((td) => td.text));
    expect(rows).toEqual([
      ['Studio plan — base', '1', '1,200.00', '1,200.00'],
      ['Droplet hours over allowance', '672', '0.01', '6.72'],
      ['LLM usage', '1,234', '0.00125', '1.54'],
      ['Storage 50 GB', '2', '7.50', '15.00'],
    ]);
    const totals = Object.fromEntries(root.querySelectorAll('table.totals tr').map((tr) => [tr.querySelector('th')?.text, tr.querySelector('td')?.text]));
    expect(totals).toEqual({ 'Subtotal (excluding GST)': money(122326n, 2), 'GST (10%)': money(12233n, 2), 'Total including GST (AUD)': money(134559n, 2) });
  });

  it('a draft has a DRAFT mark, no number, the tenant’s current details and the configured supplier; JPY has no minor digits', async () => {
    const text = await pdfText((await get(`/api/v1/invoices/${draftId}/document`)).rawPayload);
    expect(text).toContain('DRAFT');
    expect(text).toContain('not issued (draft)');
    expect(text).not.toMatch(/INV-\d{4}-/);
    expect(text).toContain('Configured Supplier Pty Ltd');
    expect(text).toContain('ABN 83 914 571 673');
    expect(text).toContain('Tenant other');
    expect(text).toContain(`Total including GST (JPY) ${money(5500n, 0)}`);
    const html = parse((await get(`/api/v1/invoices/${draftId}/document?format=html`)).body);
    expect(html.querySelector('#mark')?.text).toBe('DRAFT');
  });

  it('a void invoice has a VOID mark; KWD has three minor digits', async () => {
    const text = await pdfText((await get(`/api/v1/invoices/${voidId}/document`)).rawPayload);
    expect(text).toContain('VOID');
    expect(text).toContain('INV-2026-000003');
    expect(text).toContain('12.345');
    expect(text).toContain(`GST (10%) ${money(1235n, 3)}`);
    expect(text).toContain(`Total including GST (KWD) ${money(13580n, 3)}`);
  });
});

describe('adjustment note document', () => {
  it('PDF and HTML show the original invoice, reason, each changed line old/new/delta, the GST and total adjustment', async () => {
    const note = await ctx().db.prisma.adjustmentNote.findUniqueOrThrow({ where: { id: noteId }, include: { lines: true } });
    const text = await pdfText((await get(`/api/v1/adjustment-notes/${noteId}/document`)).rawPayload);
    expect(text).toContain('Adjustment note');
    expect(text).toContain('AN-2026-000002');
    expect(text).toContain('INV-2026-000007');
    expect(text).toContain(`Original invoice date ${longDate('2026-05-04')}`);
    expect(text).toContain('Late LLM usage billed; storage add-on removed');
    expect(text).toContain(SUPPLIER.legal_name);
    for (const l of note.lines) {
      expect(text).toContain(`${l.description} ${money(l.oldAmountMinor, 2)} ${money(l.newAmountMinor, 2)} ${signed(l.deltaMinor, 2)}`);
    }
    expect(text).toContain(`GST adjustment (10%) ${signed(note.taxDeltaMinor, 2)}`);
    expect(text).toContain(`Total adjustment including GST (AUD) ${signed(note.totalDeltaMinor, 2)}`);
    expect(signed(note.totalDeltaMinor, 2)).toBe('-14.85');

    const html = parse((await get(`/api/v1/adjustment-notes/${noteId}/document?format=html`, 'tenant_member', tenantA.id)).body);
    expect(html.querySelector('#title')?.text).toBe('Adjustment note');
    const rows = html.querySelectorAll('table.lines tbody tr').map((tr) => tr.querySelectorAll('td').map((td) => td.text));
    expect(rows).toEqual([
      ['LLM usage', '1.54', '3.04', '+1.50'],
      ['Storage 50 GB', '15.00', '0.00', '-15.00'],
    ]);
  });
});

describe('access', () => {
  it('a tenant reads its own documents; another tenant’s are 404; no token is 401', async () => {
    expect((await get(`/api/v1/invoices/${issuedId}/document`, 'tenant_admin', tenantA.id)).statusCode).toBe(200);
    const other = await get(`/api/v1/invoices/${issuedId}/document`, 'tenant_admin', tenantB.id);
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ error: 'invoice_not_found' });
    expect((await get(`/api/v1/adjustment-notes/${noteId}/document?format=html`, 'tenant_member', tenantB.id)).statusCode).toBe(404);
    expect((await get(`/api/v1/invoices/not-a-uuid/document`)).statusCode).toBe(404);
    expect((await ctx().app.inject({ method: 'GET', url: `/api/v1/invoices/${issuedId}/document` })).statusCode).toBe(401);
    const bad = await get(`/api/v1/invoices/${issuedId}/document?format=docx`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'format' });
  });
});
