import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { closeMonth, type MonthCloseOptions } from '../../src/invoicing/month-close.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { createPrisma } from '../../src/platform/database.ts';
import { ValidationError } from '../../src/platform/errors.ts';
import { useTestDatabase } from '../support/db.ts';
import { inputsNotMatchingHash } from '../support/invoices.ts';
import { seedLlmEvents, seedPilot, seedPlanVersion, seedSubscribedDeployment, seedTenant } from '../support/seed.ts';

const db = useTestDatabase();
const april = parsePeriod('2026-04');
const now = new Date('2026-05-01T03:00:00Z');

function options(overrides: Partial<MonthCloseOptions> = {}): MonthCloseOptions {
  return { runId: randomUUID(), period: april, force: false, dryRun: false, tenantId: null, reason: null, requestedBy: 'test', ...overrides };
}

async function invoiceOf(tenantId: string) {
  return db().prisma.tenantInvoice.findFirst({
    where: { tenantId, periodStart: april.start, status: { not: 'void' } },
    include: { lines: { orderBy: { lineNo: 'asc' } }, revisions: true },
  });
}

describe('month close', () => {
  it('invoices the pilot scenario to the cent, then skips it on a re-run', async () => {
    const { tenant, deployment } = await seedPilot(db().prisma);
    const first = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id }));
    expect(first).toMatchObject({ tenants: 1, created: 1, skipped: 0, failed: 0 });

    const invoice = await invoiceOf(tenant.id);
    expect(invoice).toMatchObject({ status: 'draft', currency: 'AUD', revision: 1, subtotalMinor: 6422n, taxMinor: 642n, totalMinor: 7064n });
    expect(invoice!.lines.map((l) => [l.kind, l.amountMinor])).toEqual([
      ['plan_base', 5000n],
      ['addon', 750n],
      ['overage', 672n],
      ['tax', 642n],
    ]);
    expect(invoice!.lines.filter((l) => l.kind !== 'tax').every((l) => l.deploymentId === deployment.id)).toBe(true);
    expect(invoice!.lines.find((l) => l.kind === 'tax')!.deploymentId).toBeNull();
    expect(invoice!.lines.find((l) => l.kind === 'overage')).toMatchObject({ resourceKind: 'droplet', description: expect.stringContaining('672 h') });
    expect(invoice!.lines.find((l) => l.kind === 'addon')!.description).toContain('Add-on: storage_50gb');
    // The inputs are stored with the invoice, with a hash of them.
    const inputs = invoice!.inputs as { deployments: { resourceHours: { hours: string }[]; addons: { unitPriceMinor: string }[] }[]; tax: { rate: string } };
    expect(inputs.deployments[0]!.resourceHours[0]!.hours).toBe('2160');
    expect(inputs.deployments[0]!.addons[0]!.unitPriceMinor).toBe('750');
    expect(inputs.tax.rate).toBe('0.1000');
    expect(invoice!.inputsHash).toMatch(/^[0-9a-f]{64}$/);
    // Stored as the very text that was hashed.
    expect(await inputsNotMatchingHash(db().prisma, tenant.id)).toEqual([]);

    const again = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id }));
    expect(again).toMatchObject({ created: 0, skipped: 1, regenerated: 0 });
    expect((await invoiceOf(tenant.id))!.revision).toBe(1);
  });

  it('counts late usage, previews it with a dry run, and bills it with force (audit kept)', async () => {
    const { tenant, deployment } = await seedPilot(db().prisma, 'late');
    await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id }));
    const before = await invoiceOf(tenant.id);

    // 1,000 events of 0.00125 arrive after the invoice was computed: 1.25, rounded once.
    await seedLlmEvents(db().prisma, { tenantId: tenant.id, deploymentId: deployment.id, count: 1000, charge: '0.00125', from: '2026-04-20T00:00:00Z' });

    const skipped = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id }));
    expect(skipped).toMatchObject({ skipped: 1, late_usage_events: 1000 });

    const dry = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id, dryRun: true }));
    expect(dry.regenerated).toBe(1);
    const change = dry.changes![0]!;
    expect(change.action).toBe('would_regenerate');
    const aud = (amount_minor: number, formatted: string) => ({ amount_minor, currency: 'AUD', formatted });
    expect(change.old_totals).toEqual({ subtotal: aud(6422, '64.22'), tax: aud(642, '6.42'), total: aud(7064, '70.64') });
    expect(change.new_totals).toEqual({ subtotal: aud(6547, '65.47'), tax: aud(655, '6.55'), total: aud(7202, '72.02') });
    expect(change.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'llm_usage', old_amount: null, new_amount: aud(125, '1.25') }),
        expect.objectContaining({ kind: 'tax', old_amount: aud(642, '6.42'), new_amount: aud(655, '6.55') }),
      ]),
    );
    // A dry run writes nothing.
    expect(await invoiceOf(tenant.id)).toMatchObject({ revision: 1, totalMinor: 7064n, updatedAt: before!.updatedAt });

    const forced = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id, force: true, requestedBy: 'finance@example', reason: 'late LLM usage' }));
    expect(forced).toMatchObject({ regenerated: 1, created: 0 });
    const after = await invoiceOf(tenant.id);
    expect(after).toMatchObject({ id: before!.id, revision: 2, subtotalMinor: 6547n, taxMinor: 655n, totalMinor: 7202n, llmEventCount: 1000 });
    expect(after!.lines.find((l) => l.kind === 'llm_usage')!.amountMinor).toBe(125n);
    expect(after!.revisions).toHaveLength(1);
    expect(after!.revisions[0]).toMatchObject({ revision: 2, forcedBy: 'finance@example', reason: 'late LLM usage', previousTotalMinor: 7064n, previousInputsHash: before!.inputsHash });
    expect((after!.revisions[0]!.previousLines as unknown[]).length).toBe(4);
    expect(after!.inputsHash).not.toBe(before!.inputsHash);
    expect(await inputsNotMatchingHash(db().prisma, tenant.id)).toEqual([]);

    // A forced run that changes nothing says so and writes nothing: no revision, no audit row.
    const same = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id, force: true }));
    expect(same).toMatchObject({ unchanged: 1, regenerated: 0 });
    expect(await invoiceOf(tenant.id)).toMatchObject({ revision: 2, updatedAt: after!.updatedAt });
    expect(await db().prisma.invoiceRevision.count({ where: { invoiceId: before!.id } })).toBe(1);

    // A retry of the same forced run (pg-boss may deliver it twice) does not regenerate again.
    await seedLlmEvents(db().prisma, { tenantId: tenant.id, deploymentId: deployment.id, count: 4, charge: '0.5', from: '2026-04-21T00:00:00Z' });
    const runId = randomUUID();
    await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id, force: true, runId }));
    await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id, force: true, runId }));
    expect((await invoiceOf(tenant.id))!.revision).toBe(3);
  });

  it('issues nothing for an unchanged paid invoice and leaves a void one alone', async () => {
    const paid = await seedPilot(db().prisma, 'paid');
    const voided = await seedPilot(db().prisma, 'voided');
    for (const t of [paid, voided]) await closeMonth({ prisma: db().prisma, now }, options({ tenantId: t.tenant.id }));
    await db().prisma.tenantInvoice.updateMany({ where: { tenantId: paid.tenant.id }, data: { status: 'paid', number: 'INV-2026-900001', issuedAt: now, dueAt: now, paidAt: now } });
    await db().prisma.tenantInvoice.updateMany({ where: { tenantId: voided.tenant.id }, data: { status: 'void' } });

    const paidRun = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: paid.tenant.id, force: true, reason: 'check' }));
    expect(paidRun).toMatchObject({ unchanged: 1, adjusted: 0, regenerated: 0, adjustment_notes: [] });
    const voidRun = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: voided.tenant.id, force: true }));
    expect(voidRun).toMatchObject({ void_left_alone: 1, regenerated: 0, created: 0, reissued: 0 });
    expect((await invoiceOf(paid.tenant.id))!.revision).toBe(1);
    expect(await db().prisma.tenantInvoice.count({ where: { tenantId: voided.tenant.id } })).toBe(1);
    expect(await db().prisma.adjustmentNote.count()).toBe(0);
  });

  it('invoices a billable tenant even at zero, and no invoice for trial-only or paused-only tenants', async () => {
    const free = await seedTenant(db().prisma, { slug: 'free' });
    const freePlan = await seedPlanVersion(db().prisma, { baseMinor: 0n, allowances: [] });
    await seedSubscribedDeployment(db().prisma, { tenantId: free.id, segments: [{ planVersionId: freePlan.id, from: '2026-01-01T00:00:00Z' }] });

    const trial = await seedTenant(db().prisma, { slug: 'trial' });
    const plan = await seedPlanVersion(db().prisma);
    await seedSubscribedDeployment(db().prisma, { tenantId: trial.id, trialEndsAt: '2026-05-15T00:00:00Z', segments: [{ planVersionId: plan.id, from: '2026-04-01T00:00:00Z' }] });

    const paused = await seedTenant(db().prisma, { slug: 'paused' });
    await seedSubscribedDeployment(db().prisma, { tenantId: paused.id, segments: [{ planVersionId: plan.id, status: 'paused', from: '2026-03-01T00:00:00Z' }] });

    for (const t of [free, trial, paused]) await closeMonth({ prisma: db().prisma, now }, options({ tenantId: t.id }));
    expect(await invoiceOf(free.id)).toMatchObject({ totalMinor: 0n, subtotalMinor: 0n, taxMinor: 0n });
    expect(await invoiceOf(trial.id)).toBeNull();
    expect(await invoiceOf(paused.id)).toBeNull();
  });

  it('bills each plan version for its hours when the plan changes mid-month', async () => {
    const tenant = await seedTenant(db().prisma, { slug: 'changer' });
    const v1 = await seedPlanVersion(db().prisma, { code: 'growth', version: 1, baseMinor: 3000n });
    const v2 = await seedPlanVersion(db().prisma, { code: 'growth', version: 2, baseMinor: 6000n });
    await seedSubscribedDeployment(db().prisma, {
      tenantId: tenant.id,
      segments: [
        { planVersionId: v1.id, from: '2026-02-01T00:00:00Z', to: '2026-04-21T00:00:00Z' },
        { planVersionId: v2.id, from: '2026-04-21T00:00:00Z' },
      ],
    });
    await closeMonth({ prisma: db().prisma, now }, options({ tenantId: tenant.id }));
    const invoice = await invoiceOf(tenant.id);
    // v1 for 20 of 30 days, v2 for 10.
    expect(invoice!.lines.filter((l) => l.kind === 'plan_base').map((l) => l.amountMinor)).toEqual([2000n, 2000n]);
    expect(invoice!.subtotalMinor).toBe(4000n);
  });

  it('refuses a period that has not ended and an unknown tenant', async () => {
    await expect(closeMonth({ prisma: db().prisma, now }, options({ period: parsePeriod('2026-05') }))).rejects.toThrow(ValidationError);
    await expect(closeMonth({ prisma: db().prisma, now }, options({ tenantId: randomUUID() }))).rejects.toMatchObject({ field: 'tenant_id' });
  });
});

describe('month close under concurrency and failure', () => {
  it('two closes of the same period at once produce exactly one invoice per tenant', async () => {
    const tenants = [];
    for (let i = 0; i < 6; i++) tenants.push((await seedPilot(db().prisma, `conc-${i}`)).tenant);
    // Two separate connection pools stand in for two processes.
    const a = createPrisma(db().url);
    const b = createPrisma(db().url);
    try {
      const [ra, rb] = await Promise.all([closeMonth({ prisma: a, now }, options()), closeMonth({ prisma: b, now }, options())]);
      expect(ra.failed + rb.failed).toBe(0);
      for (const t of tenants) expect(await invoiceOf(t.id)).not.toBeNull();
      const ids = tenants.map((t) => t.id);
      const count = await db().prisma.tenantInvoice.count({ where: { tenantId: { in: ids }, periodStart: april.start } });
      expect(count).toBe(tenants.length);
      // Every tenant was created by exactly one of the two and skipped by the other.
      expect(await db().prisma.tenantInvoiceLine.count({ where: { invoice: { tenantId: { in: ids } } } })).toBe(tenants.length * 4);
    } finally {
      await a.$disconnect();
      await b.$disconnect();
    }
  });

  it('a tenant that fails is recorded, leaves nothing half-written, and does not stop the others', async () => {
    const good = await seedPilot(db().prisma, 'good');
    const bad = await seedPilot(db().prisma, 'bad');
    // Fail the line insert for one tenant: its invoice row was already inserted in the same transaction.
    await db().prisma.$executeRawUnsafe(`
      CREATE FUNCTION fail_bad_lines() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM tenant_invoices i WHERE i.id = NEW.invoice_id AND i.tenant_id = '${bad.tenant.id}') THEN
          RAISE EXCEPTION 'simulated crash while writing lines';
        END IF;
        RETURN NEW;
      END $$;`);
    await db().prisma.$executeRawUnsafe(`CREATE TRIGGER fail_bad_lines BEFORE INSERT ON tenant_invoice_lines FOR EACH ROW EXECUTE FUNCTION fail_bad_lines()`);
    try {
      const summary = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: null }));
      expect(summary.failed).toBe(1);
      expect(summary.failures[0]).toMatchObject({ tenant_id: bad.tenant.id, tenant_slug: 'bad', error: expect.stringContaining('simulated crash') });
      expect(await invoiceOf(good.tenant.id)).not.toBeNull();
      expect(await invoiceOf(bad.tenant.id)).toBeNull();
    } finally {
      await db().prisma.$executeRawUnsafe('DROP TRIGGER fail_bad_lines ON tenant_invoice_lines');
      await db().prisma.$executeRawUnsafe('DROP FUNCTION fail_bad_lines()');
    }
    // The next run completes the rest.
    const next = await closeMonth({ prisma: db().prisma, now }, options({ tenantId: null }));
    expect(next.failed).toBe(0);
    expect(next.created).toBe(1);
    expect(await invoiceOf(bad.tenant.id)).toMatchObject({ totalMinor: 7064n });
  });
});
