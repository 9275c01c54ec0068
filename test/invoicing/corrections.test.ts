// Correcting closed months: adjustment notes for issued invoices (debit and credit to the cent,
// GST on the delta rounded once half away from zero, none on a second identical force), reissue
// after void, the tax profile in force at the end of the period, and LLM usage without a
// billable subscription.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { closeMonth, type MonthCloseOptions } from '../../src/invoicing/month-close.ts';
import { issueInvoice } from '../../src/invoicing/issue-invoice.ts';
import { voidInvoice } from '../../src/invoicing/void-invoice.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { receivablesSettings } from '../../src/receivables/settings.ts';
import { useTestDatabase } from '../support/db.ts';
import { inputsNotMatchingHash } from '../support/invoices.ts';
import { seedLlmEvents, seedPilot, seedTenant } from '../support/seed.ts';

const db = useTestDatabase();
const april = parsePeriod('2026-04');
const now = new Date('2026-05-05T03:00:00Z');
const receivables = receivablesSettings(loadConfig({ NODE_ENV: 'test' }));

function options(overrides: Partial<MonthCloseOptions> = {}): MonthCloseOptions {
  return { runId: randomUUID(), period: april, force: false, dryRun: false, tenantId: null, reason: null, requestedBy: 'test', ...overrides };
}
const close = (o: Partial<MonthCloseOptions>) => closeMonth({ prisma: db().prisma, now, receivables }, options(o));

async function issuedPilot(slug: string, withLlm = false) {
  const seeded = await seedPilot(db().prisma, slug);
  if (withLlm) await seedLlmEvents(db().prisma, { tenantId: seeded.tenant.id, deploymentId: seeded.deployment.id, count: 5, charge: '0.01', from: '2026-04-10T00:00:00Z' });
  await close({ tenantId: seeded.tenant.id });
  const draft = await db().prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId: seeded.tenant.id } });
  await issueInvoice({ prisma: db().prisma, now, receivables }, { invoiceId: draft.id, actor: 'test' });
  return { ...seeded, invoice: await db().prisma.tenantInvoice.findUniqueOrThrow({ where: { id: draft.id }, include: { lines: true } }) };
}

describe('adjustment notes', () => {
  it('a credit to the cent: usage retracted after issue, GST delta of half a cent rounds away from zero', async () => {
    const { tenant, invoice } = await issuedPilot('credit', true);
    expect(invoice).toMatchObject({ subtotalMinor: 6427n, taxMinor: 643n, totalMinor: 7070n });
    // The gateway retracts the five 0.01 requests: the llm line (5) disappears.
    await db().prisma.llmUsageEvent.deleteMany({ where: { tenantId: tenant.id } });

    const dry = await close({ tenantId: tenant.id, dryRun: true });
    expect(dry.changes![0]).toMatchObject({
      action: 'would_adjust',
      invoice_status: 'issued',
      adjustment: { subtotal_delta: { amount_minor: -5 }, tax_delta: { amount_minor: -1 }, total_delta: { amount_minor: -6, formatted: '-0.06' } },
    });
    expect(await db().prisma.adjustmentNote.count()).toBe(0);

    const summary = await close({ tenantId: tenant.id, force: true, reason: 'LLM requests refunded by the gateway', requestedBy: 'finance@example' });
    expect(summary).toMatchObject({ adjusted: 1, regenerated: 0, unchanged: 0 });
    const note = await db().prisma.adjustmentNote.findFirstOrThrow({ where: { invoiceId: invoice.id }, include: { lines: true } });
    // -5 × 10 % = -0.5 cent → -1 (half away from zero); total -6.
    expect(note).toMatchObject({ number: 'AN-2026-000001', subtotalDeltaMinor: -5n, taxDeltaMinor: -1n, totalDeltaMinor: -6n, reason: 'LLM requests refunded by the gateway', createdBy: 'finance@example' });
    expect(note.lines).toEqual([expect.objectContaining({ kind: 'llm_usage', oldAmountMinor: 5n, newAmountMinor: 0n, deltaMinor: -5n })]);
    expect(note.inputsHash).toMatch(/^[0-9a-f]{64}$/);
    // The invoice itself never changed.
    const after = await db().prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id }, include: { lines: true } });
    expect(after).toMatchObject({ subtotalMinor: 6427n, taxMinor: 643n, totalMinor: 7070n, revision: 1, updatedAt: invoice.updatedAt });
    expect(after.lines.length).toBe(invoice.lines.length);
    // Its receivable carries the deltas: net + tax = gross, lines sum to net.
    const delivery = await db().prisma.receivableDelivery.findFirstOrThrow({ where: { documentId: note.id } });
    expect(delivery).toMatchObject({ documentType: 'adjustment_note', version: 1, state: 'skipped', idempotencyKey: `${note.id}:1` });
    expect(delivery.payload).toMatchObject({
      document_type: 'adjustment_note',
      external_id: note.id,
      original_external_id: invoice.id,
      number: 'AN-2026-000001',
      amount_net_minor: -5,
      amount_tax_minor: -1,
      amount_gross_minor: -6,
      lines: [expect.objectContaining({ kind: 'llm_usage', amount_minor: -5 })],
    });

    // A second identical force issues nothing: invoice plus notes already equal the quote.
    const again = await close({ tenantId: tenant.id, force: true, reason: 'again' });
    expect(again).toMatchObject({ adjusted: 0, unchanged: 1, adjustment_notes: [] });
    expect(await db().prisma.adjustmentNote.count({ where: { invoiceId: invoice.id } })).toBe(1);
  });

  it('a debit for late usage on a paid invoice, then a credit that nets it back, each numbered in sequence', async () => {
    const { tenant, deployment, invoice } = await issuedPilot('debit');
    await db().prisma.tenantInvoice.update({ where: { id: invoice.id }, data: { status: 'paid', paidAt: now, paymentReference: 'EFT' } });
    await seedLlmEvents(db().prisma, { tenantId: tenant.id, deploymentId: deployment.id, count: 3, charge: '0.835', from: '2026-04-28T00:00:00Z' });
    const late = await close({ tenantId: tenant.id });
    expect(late).toMatchObject({ skipped: 1, late_usage_events: 3 });

    // 3 × 0.835 = 2.505 → 2.51 (one rounding); GST 0.251 → 0.25; total 2.76.
    const debit = await close({ tenantId: tenant.id, force: true, reason: 'late LLM usage' });
    expect(debit.adjustment_notes).toEqual([expect.objectContaining({ number: expect.stringMatching(/^AN-2026-\d{6}$/), total_delta: expect.objectContaining({ amount_minor: 276 }) })]);
    const [first] = await db().prisma.adjustmentNote.findMany({ where: { invoiceId: invoice.id } });
    expect(first).toMatchObject({ subtotalDeltaMinor: 251n, taxDeltaMinor: 25n, totalDeltaMinor: 276n });

    await db().prisma.llmUsageEvent.deleteMany({ where: { tenantId: tenant.id } });
    const credit = await close({ tenantId: tenant.id, force: true, reason: 'usage disputed and waived' });
    expect(credit.adjusted).toBe(1);
    const notes = await db().prisma.adjustmentNote.findMany({ where: { invoiceId: invoice.id }, orderBy: { number: 'asc' } });
    expect(notes.map((n) => n.totalDeltaMinor)).toEqual([276n, -276n]);
    const [a, b] = notes.map((n) => Number(n.number.slice(-6)));
    expect(b).toBe(a! + 1);
  });

  it('a retried forced run (same run id) does not issue a second note', async () => {
    const { tenant, deployment, invoice } = await issuedPilot('retried');
    await seedLlmEvents(db().prisma, { tenantId: tenant.id, deploymentId: deployment.id, count: 1, charge: '1', from: '2026-04-28T00:00:00Z' });
    const runId = randomUUID();
    const first = await close({ tenantId: tenant.id, force: true, reason: 'late', runId });
    const second = await close({ tenantId: tenant.id, force: true, reason: 'late', runId });
    expect(first.adjusted).toBe(1);
    expect(second.adjusted).toBe(1);
    expect(second.adjustment_notes[0]!.number).toBe(first.adjustment_notes[0]!.number);
    expect(await db().prisma.adjustmentNote.count({ where: { invoiceId: invoice.id } })).toBe(1);
  });
});

describe('reissue after void', () => {
  it('a void-only period is left alone without reissue and gets a new draft with it', async () => {
    const { tenant, invoice } = await issuedPilot('reissue');
    await voidInvoice({ prisma: db().prisma, now, receivables }, { invoiceId: invoice.id, reason: 'wrong entity', actor: 'test' });
    const alone = await close({ tenantId: tenant.id, force: true });
    expect(alone).toMatchObject({ void_left_alone: 1, created: 0, reissued: 0 });
    const dry = await close({ tenantId: tenant.id, force: true, reissue: true, dryRun: true });
    expect(dry.changes![0]!.action).toBe('would_reissue');

    const reissued = await close({ tenantId: tenant.id, force: true, reissue: true });
    expect(reissued).toMatchObject({ reissued: 1, failed: 0 });
    // The single-tenant path stores the hashed text too (the void invoice's and the new draft's).
    expect(await inputsNotMatchingHash(db().prisma, tenant.id)).toEqual([]);
    // Both were written at the same fixed instant: order by what they are, not by created_at.
    const invoices = await db().prisma.tenantInvoice.findMany({ where: { tenantId: tenant.id }, orderBy: { status: 'desc' } });
    expect(invoices.map((i) => [i.status, i.replacesInvoiceId])).toEqual([
      ['void', null],
      ['draft', invoice.id],
    ]);
    expect(invoices[1]!.totalMinor).toBe(7064n);
    // Still one live invoice: a second reissue finds the draft and changes nothing.
    const again = await close({ tenantId: tenant.id, force: true, reissue: true });
    expect(again).toMatchObject({ reissued: 0, unchanged: 1 });
    await expect(
      db().prisma.$executeRaw`INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, currency, tax_rate, subtotal_minor, tax_minor, total_minor, inputs, inputs_hash, computed_at)
                              VALUES (${tenant.id}::uuid, ${april.start}, ${april.end}, 'draft', 'AUD', 0.1, 0, 0, 0, '{}', 'x', now())`,
    ).rejects.toThrow(/tenant_invoices_tenant_id_period_start_live_key/);
  });
});

describe('what the close bills', () => {
  it('uses the tax profile in force at the end of the period, also on a forced re-run of an old period', async () => {
    const { tenant } = await seedPilot(db().prisma, 'gst-change');
    await db().prisma.tenantTaxProfile.create({ data: { tenantId: tenant.id, country: 'AU', gstRate: '0.15', effectiveFrom: new Date('2026-05-01T00:00:00Z'), createdBy: 'test' } });
    await close({ tenantId: tenant.id });
    const may = parsePeriod('2026-05');
    await closeMonth({ prisma: db().prisma, now: new Date('2026-06-01T03:00:00Z'), receivables }, options({ tenantId: tenant.id, period: may }));
    const [aprilInvoice, mayInvoice] = await db().prisma.tenantInvoice.findMany({ where: { tenantId: tenant.id }, orderBy: { periodStart: 'asc' } });
    expect(aprilInvoice).toMatchObject({ taxMinor: 642n, totalMinor: 7064n });
    expect(aprilInvoice!.taxRate.toString()).toBe('0.1');
    expect(mayInvoice!.taxRate.toString()).toBe('0.15');
    // May: 50.00 + 7.50 + overage 744 h × 3 − 1,488 = 744 h → 7.44 = 64.94; GST 15 % = 9.741 → 9.74.
    expect(mayInvoice).toMatchObject({ subtotalMinor: 6494n, taxMinor: 974n });

    const forced = await closeMonth({ prisma: db().prisma, now: new Date('2026-06-02T00:00:00Z'), receivables }, options({ tenantId: tenant.id, force: true }));
    expect(forced).toMatchObject({ unchanged: 1, regenerated: 0 });
    expect((await db().prisma.tenantInvoice.findUniqueOrThrow({ where: { id: aprilInvoice!.id } })).taxRate.toString()).toBe('0.1');
  });

  it('invoices LLM usage of a tenant with no billable subscription in the period', async () => {
    const tenant = await seedTenant(db().prisma, { slug: 'llm-only' });
    const deployment = await db().prisma.deployment.create({ data: { tenantId: tenant.id, slug: 'bot', displayName: 'Bot', region: 'syd1', state: 'paused' } });
    await seedLlmEvents(db().prisma, { tenantId: tenant.id, deploymentId: deployment.id, count: 4, charge: '0.125', from: '2026-04-03T00:00:00Z' });
    // A close of every tenant finds it too: its dry run would create its invoice.
    const all = await close({ dryRun: true });
    expect(all.changes!.find((c) => c.tenant_id === tenant.id)?.action).toBe('would_create');
    const summary = await close({ tenantId: tenant.id });
    expect(summary).toMatchObject({ tenants: 1, created: 1, failed: 0 });
    const invoice = await db().prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId: tenant.id }, include: { lines: { orderBy: { lineNo: 'asc' } } } });
    expect(invoice.lines.map((l) => [l.kind, l.amountMinor])).toEqual([
      ['llm_usage', 50n],
      ['tax', 5n],
    ]);
    expect(invoice.totalMinor).toBe(55n);
    // Closed, a dry run of every tenant counts it unchanged and no longer lists it.
    const again = await close({ dryRun: true });
    expect(again.changes!.some((c) => c.tenant_id === tenant.id)).toBe(false);
    expect(again.unchanged).toBeGreaterThanOrEqual(1);
  });
});
