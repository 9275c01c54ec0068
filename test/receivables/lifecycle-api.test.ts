// The tenant invoice lifecycle through the HTTP API, with a finance stand-in on 127.0.0.1:
// early issue, mark paid, void (pushed as void), the status audit, refusals naming both states,
// adjustment notes listed with the invoice, and bad input answering 4xx naming the field.
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { closeMonth } from '../../src/invoicing/month-close.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { deliverReceivable } from '../../src/receivables/deliver.ts';
import { receivablesSettings } from '../../src/receivables/settings.ts';
import { FINANCE_SECRET } from '../costs/fakes.ts';
import { useTestApp } from '../support/app.ts';
import { seedLlmEvents, seedPilot } from '../support/seed.ts';
import { startFakeRevenueFinance } from './fake-revenue-finance.ts';

const finance = await startFakeRevenueFinance();
const clock = new Date('2026-05-02T09:00:00Z');
const ctx = useTestApp({ now: () => clock, env: { FINANCE_URL: finance.url, FINANCE_JWT_SECRET: FINANCE_SECRET, SUPPLIER_ABN: '51 824 753 556', SUPPLIER_LEGAL_NAME: 'Platform Pty Ltd' } });
afterAll(() => finance.close());
const april = parsePeriod('2026-04');

async function draftFor(slug: string) {
  const { db, config } = ctx();
  const seeded = await seedPilot(db.prisma, slug);
  await closeMonth({ prisma: db.prisma, now: clock, receivables: receivablesSettings(config) }, { runId: randomUUID(), period: april, force: false, dryRun: false, tenantId: seeded.tenant.id, reason: null, requestedBy: 'test' });
  const invoice = await db.prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId: seeded.tenant.id } });
  return { ...seeded, invoice };
}

async function post(path: string, body: unknown = {}, roles: Parameters<ReturnType<typeof ctx>['auth']>[0] = 'finance') {
  return ctx().app.inject({ method: 'POST', url: path, headers: await ctx().auth(roles), payload: body as object });
}

async function deliverPending(invoiceId: string) {
  const { db, config } = ctx();
  const rows = await db.prisma.receivableDelivery.findMany({ where: { invoiceId, state: 'pending' } });
  for (const row of rows) await deliverReceivable({ prisma: db.prisma, finance: receivablesSettings(config).finance, now: () => clock }, row.id);
}

describe('invoice lifecycle API', () => {
  it('issues a draft early: number, due date, parties frozen, status audit, receivable pushed once', async () => {
    const { invoice, tenant } = await draftFor('early');
    const res = await post(`/api/v1/invoices/${invoice.id}/issue`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.outcome).toBe('issued');
    expect(body.invoice).toMatchObject({
      status: 'issued',
      number: 'INV-2026-000001',
      issued_at: '2026-05-02T09:00:00.000Z',
      due_at: '2026-05-16T09:00:00.000Z',
      tax_rate: '0.1',
      total: { amount_minor: 7064, currency: 'AUD', formatted: '70.64' },
      net_total: { amount_minor: 7064 },
      supplier: { legal_name: 'Platform Pty Ltd', abn: '51824753556' },
      billed_to: { name: `Tenant early` },
    });
    expect(body.invoice.status_changes).toEqual([
      expect.objectContaining({ from: null, to: 'draft' }),
      expect.objectContaining({ from: 'draft', to: 'issued', actor: 'test-user' }),
    ]);
    expect(body.invoice.deliveries).toEqual([expect.objectContaining({ document_type: 'invoice', version: 1, state: 'pending', idempotency_key: `${invoice.id}:1` })]);

    // Issuing again changes nothing and says so.
    const again = await post(`/api/v1/invoices/${invoice.id}/issue`);
    expect(again.json()).toMatchObject({ outcome: 'unchanged', invoice: { number: 'INV-2026-000001' } });

    await deliverPending(invoice.id);
    await deliverPending(invoice.id);
    const record = [...finance.records.values()].find((r) => r.body.external_id === invoice.id)!;
    expect(record.versions).toBe(1);
    expect(record.body).toMatchObject({
      source: 'tenant-invoicing',
      document_type: 'invoice',
      number: 'INV-2026-000001',
      status: 'issued',
      tenant_id: tenant.id,
      tenant_name: 'Tenant early',
      period: '2026-04',
      currency: 'AUD',
      tax_rate: '0.1',
      amount_net_minor: 6422,
      amount_tax_minor: 642,
      amount_gross_minor: 7064,
    });
    const lines = record.body.lines as { amount_minor: number; kind: string }[];
    expect(lines.map((l) => l.kind)).toEqual(['plan_base', 'addon', 'overage']);
    expect(lines.reduce((s, l) => s + l.amount_minor, 0)).toBe(6422);
    expect(finance.accepted.at(-1)!.idempotencyKey).toBe(`${invoice.id}:1`);
    const shown = (await ctx().app.inject({ url: `/api/v1/invoices/${invoice.id}`, headers: await ctx().auth('finance') })).json();
    expect(shown.deliveries[0]).toMatchObject({ state: 'delivered', finance_id: record.invoice_id, finance_action: 'created', attempts: 1 });
  });

  it('marks an issued invoice paid; a paid invoice cannot be voided (422 naming both states)', async () => {
    const { invoice } = await draftFor('paid');
    expect((await post(`/api/v1/invoices/${invoice.id}/mark-paid`, { paid_at: '2026-05-02T08:00:00Z', reference: 'EFT-1' })).json()).toMatchObject({
      error: 'invalid_transition',
      details: { from: 'draft', to: 'paid' },
    });
    await post(`/api/v1/invoices/${invoice.id}/issue`);
    const early = await post(`/api/v1/invoices/${invoice.id}/mark-paid`, { paid_at: '2026-05-01T00:00:00Z', reference: 'EFT-1' });
    expect(early.statusCode).toBe(422);
    expect(early.json().field).toBe('paid_at');
    const paid = await post(`/api/v1/invoices/${invoice.id}/mark-paid`, { paid_at: '2026-05-02T09:00:00Z', reference: 'EFT-1' });
    expect(paid.json()).toMatchObject({ outcome: 'paid', invoice: { status: 'paid', paid_at: '2026-05-02T09:00:00.000Z', payment_reference: 'EFT-1' } });
    expect((await post(`/api/v1/invoices/${invoice.id}/mark-paid`, { paid_at: '2026-05-02T09:00:00Z', reference: 'EFT-1' })).json().outcome).toBe('unchanged');

    const voided = await post(`/api/v1/invoices/${invoice.id}/void`, { reason: 'customer dispute' });
    expect(voided.statusCode).toBe(422);
    expect(voided.json()).toMatchObject({ error: 'invalid_transition', field: 'status', details: { from: 'paid', to: 'void' } });
    expect(voided.json().message).toMatch(/paid.*void/);
    expect((await ctx().db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id } })).status).toBe('paid');
  });

  it('voids an issued invoice: it keeps its number and is pushed again as void', async () => {
    const { invoice } = await draftFor('voided');
    await post(`/api/v1/invoices/${invoice.id}/issue`);
    await deliverPending(invoice.id);
    const res = await post(`/api/v1/invoices/${invoice.id}/void`, { reason: 'billed the wrong entity' });
    expect(res.json()).toMatchObject({ outcome: 'voided', invoice: { status: 'void', void_reason: 'billed the wrong entity', number: expect.stringMatching(/^INV-2026-/), net_total: { amount_minor: 0 } } });
    expect((await post(`/api/v1/invoices/${invoice.id}/void`, { reason: 'again' })).json().outcome).toBe('unchanged');
    await deliverPending(invoice.id);
    const record = [...finance.records.values()].find((r) => r.body.external_id === invoice.id)!;
    expect(record).toMatchObject({ versions: 2, body: { status: 'void', number: res.json().invoice.number } });
    expect(finance.accepted.filter((a) => a.body.external_id === invoice.id).map((a) => [a.action, a.idempotencyKey])).toEqual([
      ['created', `${invoice.id}:1`],
      ['updated', `${invoice.id}:2`],
    ]);
    // Issuing a void invoice is refused, naming both states.
    expect((await post(`/api/v1/invoices/${invoice.id}/issue`)).json()).toMatchObject({ error: 'invalid_transition', details: { from: 'void', to: 'issued' } });
  });

  it('voids a draft without pushing anything', async () => {
    const { invoice } = await draftFor('draft-void');
    const res = await post(`/api/v1/invoices/${invoice.id}/void`, { reason: 'duplicate' });
    expect(res.json()).toMatchObject({ outcome: 'voided', invoice: { status: 'void', number: null, deliveries: [] } });
  });

  it('lists adjustment notes with their invoice and scopes them to the tenant', async () => {
    const { invoice, tenant, deployment } = await draftFor('noted');
    await post(`/api/v1/invoices/${invoice.id}/issue`);
    await seedLlmEvents(ctx().db.prisma, { tenantId: tenant.id, deploymentId: deployment.id, count: 5, charge: '0.01', from: '2026-04-29T00:00:00Z' });
    const rollup = await post('/api/v1/invoices/rollup', { period: '2026-04', force: true, tenant_id: tenant.id });
    expect(rollup.statusCode).toBe(422);
    expect(rollup.json().field).toBe('reason');
    const { db, config, boss } = ctx();
    const summary = await closeMonth(
      { prisma: db.prisma, now: clock, receivables: receivablesSettings(config, boss) },
      { runId: randomUUID(), period: april, force: true, dryRun: false, tenantId: tenant.id, reason: 'late LLM usage', requestedBy: 'finance@example' },
    );
    expect(summary).toMatchObject({ adjusted: 1, adjustment_notes: [expect.objectContaining({ number: 'AN-2026-000001', total_delta: { amount_minor: 6, currency: 'AUD', formatted: '0.06' } })] });

    const shown = (await ctx().app.inject({ url: `/api/v1/invoices/${invoice.id}`, headers: await ctx().auth('finance') })).json();
    expect(shown).toMatchObject({ total: { amount_minor: 7064 }, net_total: { amount_minor: 7070 }, adjustment_notes: [{ number: 'AN-2026-000001', reason: 'late LLM usage' }] });
    expect(shown.deliveries.map((d: { document_type: string }) => d.document_type)).toEqual(['invoice', 'adjustment_note']);

    const noteId = shown.adjustment_notes[0].id;
    const own = await ctx().app.inject({ url: `/api/v1/adjustment-notes/${noteId}`, headers: await ctx().auth('tenant_member', tenant.id) });
    expect(own.json()).toMatchObject({ number: 'AN-2026-000001', invoice_number: shown.number, kind: 'debit', subtotal_delta: { amount_minor: 5 }, tax_delta: { amount_minor: 1 } });
    expect(own.json().lines).toEqual([expect.objectContaining({ kind: 'llm_usage', old_amount: expect.objectContaining({ amount_minor: 0 }), new_amount: expect.objectContaining({ amount_minor: 5 }), delta: expect.objectContaining({ amount_minor: 5 }) })]);
    const other = await ctx().app.inject({ url: `/api/v1/adjustment-notes/${noteId}`, headers: await ctx().auth('tenant_member', randomUUID()) });
    expect(other.statusCode).toBe(404);
    const list = await ctx().app.inject({ url: `/api/v1/adjustment-notes?period=2026-04`, headers: await ctx().auth('tenant_admin', tenant.id) });
    expect(list.json().data.map((n: { number: string }) => n.number)).toEqual(['AN-2026-000001']);
    const none = await ctx().app.inject({ url: `/api/v1/adjustment-notes`, headers: await ctx().auth('tenant_admin', randomUUID()) });
    expect(none.json().data).toEqual([]);
  });

  it.each([
    ['mark-paid without paid_at', 'mark-paid', { reference: 'x' }, 'paid_at'],
    ['mark-paid with a bad date', 'mark-paid', { paid_at: 'yesterday', reference: 'x' }, 'paid_at'],
    ['mark-paid without reference', 'mark-paid', { paid_at: '2026-05-02T00:00:00Z' }, 'reference'],
    ['mark-paid in the future', 'mark-paid', { paid_at: '2027-01-01T00:00:00Z', reference: 'x' }, 'paid_at'],
    ['void without reason', 'void', {}, 'reason'],
    ['void with an empty reason', 'void', { reason: '  ' }, 'reason'],
    ['void with an unknown field', 'void', { reason: 'x', force: true }, 'force'],
  ])('%s answers 4xx naming the field and changes nothing', async (_label, action, body, field) => {
    const { invoice } = await draftFor(`bad-${action}-${field}-${randomUUID().slice(0, 4)}`);
    await post(`/api/v1/invoices/${invoice.id}/issue`);
    const before = await ctx().db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id } });
    const res = await post(`/api/v1/invoices/${invoice.id}/${action}`, body);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json().field).toBe(field);
    expect(await ctx().db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id } })).toEqual(before);
  });

  it('answers 404 for an unknown or malformed invoice id, and 403 to a tenant role', async () => {
    expect((await post(`/api/v1/invoices/${randomUUID()}/issue`)).statusCode).toBe(404);
    expect((await post(`/api/v1/invoices/not-a-uuid/void`, { reason: 'x' })).statusCode).toBe(404);
    const { invoice, tenant } = await draftFor('forbidden');
    const res = await ctx().app.inject({ method: 'POST', url: `/api/v1/invoices/${invoice.id}/issue`, headers: await ctx().auth('tenant_admin', tenant.id) });
    expect(res.statusCode).toBe(403);
  });

  it('refuses reissue without force and a forced rollup of an issued period without reason', async () => {
    const bad = await post('/api/v1/invoices/rollup', { period: '2026-04', reissue: true });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().field).toBe('reissue');
    expect(await ctx().db.prisma.monthCloseRun.count()).toBe(0);
  });
});
