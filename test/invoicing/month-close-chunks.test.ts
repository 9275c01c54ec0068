// One chunk, every path at once: the set-based writes (bulk insert, bulk regeneration of changed
// drafts) beside the per-tenant paths (adjustment note, void) in one transaction, with outcomes,
// audit rows and idempotency as the single-tenant close gives them.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/platform/config.ts';
import { closeChunk, closeMonth, refreshWrittenStatistics, type MonthCloseOptions } from '../../src/invoicing/month-close.ts';
import { issueInvoice } from '../../src/invoicing/issue-invoice.ts';
import { voidInvoice } from '../../src/invoicing/void-invoice.ts';
import { lineJson } from '../../src/invoicing/invoices.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { receivablesSettings } from '../../src/receivables/settings.ts';
import { useTestDatabase } from '../support/db.ts';
import { seedLlmEvents, seedPilot } from '../support/seed.ts';
import { inputsNotMatchingHash } from '../support/invoices.ts';

const db = useTestDatabase();
const april = parsePeriod('2026-04');
const now = new Date('2026-05-05T03:00:00Z');
const receivables = receivablesSettings(loadConfig({ NODE_ENV: 'test' }));

function options(overrides: Partial<MonthCloseOptions> = {}): MonthCloseOptions {
  return { runId: randomUUID(), period: april, force: false, dryRun: false, tenantId: null, reason: null, requestedBy: 'test', ...overrides };
}
// Warnings land here: the chunk must be written by its one transaction, not by the tenant-by-tenant fallback.
const warnings: string[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });

const invoiceOf = (tenantId: string) =>
  db().prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId, periodStart: april.start }, orderBy: { createdAt: 'desc' }, include: { lines: { orderBy: { lineNo: 'asc' } }, revisions: true } });

describe('a chunk of tenants in one transaction', () => {
  it('creates, regenerates, leaves unchanged, adjusts and leaves void in one chunk; a re-delivery writes nothing more', async () => {
    const seeded = [];
    for (const slug of ['changed', 'same', 'issued', 'voided', 'fresh']) seeded.push(await seedPilot(db().prisma, `chunk-${slug}`));
    const [changed, same, issued, voided, fresh] = seeded.map((s) => s.tenant.id) as [string, string, string, string, string];
    for (const t of [changed, same, issued, voided]) await closeMonth({ prisma: db().prisma, now, receivables }, options({ tenantId: t }));
    await issueInvoice({ prisma: db().prisma, now, receivables }, { invoiceId: (await invoiceOf(issued)).id, actor: 'test' });
    await voidInvoice({ prisma: db().prisma, now, receivables }, { invoiceId: (await invoiceOf(voided)).id, reason: 'test', actor: 'test' });
    // Late usage for a draft and for the issued invoice.
    for (const [i, t] of [[0, changed], [2, issued]] as const) {
      await seedLlmEvents(db().prisma, { tenantId: t, deploymentId: seeded[i]!.deployment.id, count: 5, charge: '0.01', from: '2026-04-20T00:00:00Z' });
    }
    const before = await invoiceOf(changed);

    const forced = options({ force: true, reason: 'late usage' });
    const outcomes = await closeChunk({ prisma: db().prisma, now, receivables, logger }, forced, [changed, same, issued, voided, fresh]);
    expect(outcomes).toMatchObject({ created: 1, regenerated: 1, unchanged: 1, adjusted: 1, void_left_alone: 1, skipped: 0, failed: 0 });
    expect(outcomes.adjustment_notes).toEqual([expect.objectContaining({ tenant_id: issued, number: 'AN-2026-000001', total_delta: expect.objectContaining({ amount_minor: 6 }) })]);

    const regenerated = await invoiceOf(changed);
    expect(regenerated).toMatchObject({ revision: 2, subtotalMinor: before.subtotalMinor + 5n, llmEventCount: 5, lastRunId: forced.runId });
    expect(regenerated.lines.find((l) => l.kind === 'llm_usage')?.amountMinor).toBe(5n);
    // The revision keeps the replaced lines exactly as lineJson shows them.
    expect(regenerated.revisions).toHaveLength(1);
    expect(regenerated.revisions[0]).toMatchObject({ revision: 2, previousTotalMinor: before.totalMinor, previousInputsHash: before.inputsHash, forcedBy: 'test', reason: 'late usage' });
    expect(regenerated.revisions[0]!.previousLines).toEqual(before.lines.map((l) => ({ ...lineJson(l), amount_minor: l.amountMinor.toString() })));
    expect(await invoiceOf(same)).toMatchObject({ revision: 1, revisions: [] });
    expect(await invoiceOf(fresh)).toMatchObject({ revision: 1, status: 'draft', totalMinor: 7064n });
    expect(await db().prisma.invoiceStatusChange.count({ where: { invoice: { tenantId: fresh } } })).toBe(1);
    expect((await invoiceOf(issued)).revision).toBe(1);
    expect((await invoiceOf(voided)).status).toBe('void');

    // pg-boss delivering the same chunk again: the same outcomes, no second revision or note.
    const again = await closeChunk({ prisma: db().prisma, now, receivables, logger }, forced, [changed, same, issued, voided, fresh]);
    expect(again).toMatchObject({ created: 0, skipped: 0, regenerated: 2, unchanged: 1, adjusted: 1, void_left_alone: 1, failed: 0 });
    expect((await invoiceOf(changed)).revision).toBe(2);
    expect(await db().prisma.adjustmentNote.count()).toBe(1);
    expect(warnings).toEqual([]);
  });

  it("stores text with COPY's special characters exactly: the inputs hash to their stored text, a line's description round-trips", async () => {
    const { tenant, version } = await seedPilot(db().prisma, 'chunk-escapes');
    const addonName = 'Backups "nightly" \\ daily\tand\nmore\r';
    const planCode = 'studio\\x\ty';
    await db().prisma.$executeRaw`
      UPDATE subscription_addons a SET addon_name = ${addonName}
        FROM subscriptions s JOIN deployments d ON d.id = s.deployment_id
       WHERE a.subscription_id = s.id AND d.tenant_id = ${tenant.id}::uuid`;
    await db().prisma.$executeRaw`UPDATE plans SET code = ${planCode} WHERE id = (SELECT plan_id FROM plan_versions WHERE id = ${version.id}::uuid)`;
    warnings.length = 0;
    const summary = await closeMonth({ prisma: db().prisma, now, logger }, options({ tenantId: tenant.id }));
    expect(summary).toMatchObject({ created: 1, failed: 0 });
    // Written by the chunk's COPY, not by the tenant-by-tenant fallback.
    expect(warnings).toEqual([]);
    expect(await inputsNotMatchingHash(db().prisma, tenant.id)).toEqual([]);
    const invoice = await invoiceOf(tenant.id);
    expect((invoice.inputs as { deployments: { addons: { name: string }[] }[] }).deployments[0]!.addons[0]!.name).toBe(addonName);
    expect(invoice.lines[0]!.description).toContain(`Plan ${planCode} v`);
  });

  it('a tenant whose inputs cannot be loaded fails by name and the rest of its chunk is closed', async () => {
    const ok = (await seedPilot(db().prisma, 'loads')).tenant.id;
    const broken = (await seedPilot(db().prisma, 'no-tax')).tenant.id;
    await db().prisma.tenantTaxProfile.deleteMany({ where: { tenantId: broken } });
    const outcomes = await closeChunk({ prisma: db().prisma, now, receivables }, options(), [ok, broken]);
    expect(outcomes).toMatchObject({ created: 1, failed: 1 });
    expect(outcomes.failures).toEqual([{ tenant_id: broken, tenant_slug: 'no-tax', error: expect.stringContaining('no tax profile') }]);
    expect(await db().prisma.tenantInvoice.count({ where: { tenantId: ok } })).toBe(1);
    expect(await db().prisma.tenantInvoice.count({ where: { tenantId: broken } })).toBe(0);
  });
});

describe('statistics after a bulk write', () => {
  const lastAnalyze = async () =>
    (await db().prisma.$queryRaw<{ at: Date | null }[]>`SELECT last_analyze AS at FROM pg_stat_user_tables WHERE relname = 'tenant_invoice_lines'`)[0]?.at ?? null;
  const waitForStats = async (previous: Date | null) => {
    // The statistics collector reports with a short delay.
    for (let i = 0; i < 50; i++) {
      const at = await lastAnalyze();
      if (at && (!previous || at > previous)) return at;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return lastAnalyze();
  };

  it('are refreshed after a chunk of invoices (500 or more) and left alone after fewer', async () => {
    const before = await lastAnalyze();
    await refreshWrittenStatistics(db().prisma, { created: 499, regenerated: 0, reissued: 0 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await lastAnalyze()).toEqual(before);
    await refreshWrittenStatistics(db().prisma, { created: 300, regenerated: 150, reissued: 50 });
    const after = await waitForStats(before);
    expect(after).not.toBeNull();
    if (before) expect(after!.getTime()).toBeGreaterThan(before.getTime());
  });
});
