// Issuing and delivering through real pg-boss workers and a finance stand-in on 127.0.0.1:
// the grace period then the automatic issue, the draft refresh, gap-free numbers under
// concurrency and across a year boundary, a push that arrives once per document version through
// 503s and a lost response, and a 400 recorded and then redelivered by the CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { QUEUES } from '../../jobs/catalog.ts';
import { startWorkers } from '../../jobs/worker.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createPrisma } from '../../src/platform/database.ts';
import { closeMonth } from '../../src/invoicing/month-close.ts';
import { nextDocumentNumber } from '../../src/invoicing/document-numbers.ts';
import { issueInvoice } from '../../src/invoicing/issue-invoice.ts';
import { issueDrafts, refreshDrafts } from '../../src/invoicing/issue-drafts.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { receivablesSettings } from '../../src/receivables/settings.ts';
import { FINANCE_SECRET } from '../costs/fakes.ts';
import { useTestApp } from '../support/app.ts';
import { seedLlmEvents, seedPilot } from '../support/seed.ts';
import { waitFor } from '../support/wait.ts';
import { startFakeRevenueFinance } from './fake-revenue-finance.ts';

const finance = await startFakeRevenueFinance();
const ctx = useTestApp();
const april = parsePeriod('2026-04');
let clock = new Date('2026-05-01T03:00:00Z');
const financeEnv = { FINANCE_URL: finance.url, FINANCE_JWT_SECRET: FINANCE_SECRET };

function config() {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: ctx().db.url, ...financeEnv });
}
function settings() {
  return receivablesSettings(config(), ctx().boss);
}

beforeAll(async () => {
  const { db, boss } = ctx();
  await startWorkers({ prisma: db.prisma, boss, config: config(), logger: pino({ level: 'silent' }), now: () => clock }, { catchUpOnStart: false, pollingIntervalSeconds: 0.5 });
  await boss.updateQueue(QUEUES.receivablePush, { retryLimit: 3, retryDelay: 1, retryBackoff: false });
});
afterAll(async () => {
  for (const queue of Object.values(QUEUES)) await ctx().boss.offWork(queue).catch(() => {});
  await finance.close();
});

async function closeApril(slug: string) {
  const seeded = await seedPilot(ctx().db.prisma, slug);
  await closeMonth({ prisma: ctx().db.prisma, now: clock, receivables: settings() }, { runId: randomUUID(), period: april, force: false, dryRun: false, tenantId: seeded.tenant.id, reason: null, requestedBy: 'test' });
  return { ...seeded, invoice: await ctx().db.prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId: seeded.tenant.id } }) };
}

async function runJob(queue: string) {
  const id = await ctx().boss.send(queue, {});
  await waitFor(async () => {
    const [job] = await ctx().boss.findJobs(queue, { id: id! });
    return job && (job.state === 'completed' || job.state === 'failed') ? job : null;
  }, `${queue} to finish`);
}

describe('grace period, refresh and automatic issue', () => {
  it('refreshes a draft when late usage arrives, leaves it alone otherwise, and issues it once the grace has passed', async () => {
    const { invoice, tenant, deployment } = await closeApril('grace');
    const { db } = ctx();

    // Nothing changed: the refresh leaves the draft alone (no revision bump).
    clock = new Date('2026-05-02T00:00:00Z');
    await runJob(QUEUES.draftRefresh);
    expect(await db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id } })).toMatchObject({ revision: 1, updatedAt: invoice.updatedAt });

    // Late usage during the grace period lands on the draft, as a new revision with its reason.
    await seedLlmEvents(db.prisma, { tenantId: tenant.id, deploymentId: deployment.id, count: 2, charge: '0.5', from: '2026-04-30T23:00:00Z' });
    await runJob(QUEUES.draftRefresh);
    const refreshed = await db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id }, include: { revisions: true } });
    expect(refreshed).toMatchObject({ status: 'draft', revision: 2, totalMinor: 7064n + 110n });
    expect(refreshed.revisions).toEqual([expect.objectContaining({ revision: 2, reason: 'late usage refresh', forcedBy: 'system:draft-refresh' })]);

    // 71 hours after the period end: still within the 72 h grace.
    clock = new Date('2026-05-03T23:00:00Z');
    await runJob(QUEUES.invoiceIssue);
    expect((await db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id } })).status).toBe('draft');

    // Past the grace: issued, numbered, due 14 days later, and delivered through finance's 503s.
    finance.failNext(2, 503);
    clock = new Date('2026-05-04T01:00:00Z');
    await runJob(QUEUES.invoiceIssue);
    const issued = await db.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: invoice.id } });
    expect(issued).toMatchObject({ status: 'issued', number: expect.stringMatching(/^INV-2026-\d{6}$/), issuedAt: clock, dueAt: new Date('2026-05-18T01:00:00Z'), revision: 2 });
    const delivered = await waitFor(async () => {
      const row = await db.prisma.receivableDelivery.findFirst({ where: { documentId: invoice.id, state: 'delivered' } });
      return row;
    }, 'the receivable to be delivered');
    expect(delivered.attempts).toBeGreaterThanOrEqual(2);
    expect([...finance.records.values()].filter((r) => r.body.external_id === invoice.id)).toHaveLength(1);

    // A second sweep issues nothing more.
    await runJob(QUEUES.invoiceIssue);
    expect(await db.prisma.receivableDelivery.count({ where: { documentId: invoice.id } })).toBe(1);
  });

  it('a lost response (finance stored it, the answer never came) is delivered again and stays one record', async () => {
    clock = new Date('2026-05-05T00:00:00Z');
    const { invoice } = await closeApril('lost');
    finance.dropNext(1);
    const summary = await issueDrafts({ prisma: ctx().db.prisma, now: clock, receivables: settings() }, { period: april, tenantId: invoice.tenantId, actor: 'test' });
    expect(summary).toMatchObject({ issued: 1, push_retrying: 1, pushed: 0 });
    const row = await waitFor(() => ctx().db.prisma.receivableDelivery.findFirst({ where: { documentId: invoice.id, state: 'delivered' } }), 'the job to redeliver');
    expect(row.lastError).toBeNull();
    const sent = finance.accepted.filter((a) => a.body.external_id === invoice.id);
    expect(sent.map((a) => a.action)).toEqual(['created', 'updated']);
    expect(new Set(sent.map((a) => a.idempotencyKey))).toEqual(new Set([`${invoice.id}:1`]));
    expect([...finance.records.values()].filter((r) => r.body.external_id === invoice.id)).toHaveLength(1);
  });

  it('a 400 is recorded, not retried by itself, and sent again by npm run finance:redeliver', async () => {
    clock = new Date('2026-05-05T00:00:00Z');
    const { invoice } = await closeApril('refused');
    finance.failNext(1, 400, { error: 'unknown_tenant', message: 'tenant not in finance' });
    const summary = await issueDrafts({ prisma: ctx().db.prisma, now: clock, receivables: settings() }, { period: april, tenantId: invoice.tenantId, actor: 'test' });
    expect(summary).toMatchObject({ issued: 1, push_failed: 1 });
    // The queued job finds it failed and leaves it: no second request.
    await waitFor(async () => {
      const jobs = await ctx().boss.findJobs(QUEUES.receivablePush, { key: (await ctx().db.prisma.receivableDelivery.findFirstOrThrow({ where: { documentId: invoice.id } })).id });
      return jobs.every((j) => j.state === 'completed') && jobs.length > 0;
    }, 'the push job to complete');
    const failed = await ctx().db.prisma.receivableDelivery.findFirstOrThrow({ where: { documentId: invoice.id } });
    expect(failed).toMatchObject({ state: 'failed', lastErrorStatus: 400, attempts: 1 });
    expect(failed.lastError).toContain('unknown_tenant');
    const shown = (await ctx().app.inject({ url: `/api/v1/invoices/${invoice.id}`, headers: await ctx().auth('finance') })).json();
    expect(shown.deliveries[0]).toMatchObject({ state: 'failed', last_error_status: 400 });

    const script = fileURLToPath(new URL('../../scripts/finance-redeliver.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--failed'], {
      env: { ...process.env, DATABASE_URL: ctx().db.url, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...financeEnv },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/1 delivered/);
    expect(await ctx().db.prisma.receivableDelivery.findFirstOrThrow({ where: { documentId: invoice.id } })).toMatchObject({ state: 'delivered', lastErrorStatus: null });
    const again = await promisify(execFile)(process.execPath, [script, '--document', invoice.id], { env: { ...process.env, DATABASE_URL: ctx().db.url, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...financeEnv } });
    expect(again.stdout).toMatch(/0 to deliver/);
  }, 90_000);
});

describe('gap-free numbers', () => {
  it('300 invoices issued from four connections at once are numbered 1..300 with no gap and no duplicate', async () => {
    const { db } = ctx();
    const may = parsePeriod('2026-05');
    await db.prisma.$executeRaw`
      WITH t AS (
        INSERT INTO tenants (name, slug, billing_currency) SELECT 'N ' || g, 'numbering-' || g, 'AUD' FROM generate_series(1, 300) g RETURNING id)
      INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, currency, tax_rate, subtotal_minor, tax_minor, total_minor, inputs, inputs_hash, computed_at)
      SELECT id, ${may.start}, ${may.end}, 'draft', 'AUD', 0.1, 0, 0, 0, '{}', 'h', now() FROM t`;
    const ids = (await db.prisma.tenantInvoice.findMany({ where: { periodStart: may.start }, select: { id: true }, orderBy: { id: 'asc' } })).map((r) => r.id);
    expect(ids).toHaveLength(300);
    const cfg = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url });
    const clients = Array.from({ length: 4 }, () => createPrisma(db.url, { max: 3 }));
    try {
      const issuedAt = new Date('2026-06-04T00:00:00Z');
      await Promise.all(
        clients.map(async (prisma, lane) => {
          const rs = receivablesSettings(cfg);
          for (let i = lane; i < ids.length; i += clients.length) await issueInvoice({ prisma, now: issuedAt, receivables: rs }, { invoiceId: ids[i]!, actor: `lane-${lane}` });
        }),
      );
      // A rolled-back issue leaves no gap: its number goes back with it.
      await expect(
        db.prisma.$transaction(async (tx) => {
          await nextDocumentNumber(tx, 'invoice', 'INV', issuedAt);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      const numbers = (await db.prisma.tenantInvoice.findMany({ where: { periodStart: may.start }, select: { number: true } })).map((r) => r.number!);
      const sequence = numbers.map((n) => Number(/^INV-2026-(\d{6})$/.exec(n)![1])).sort((a, b) => a - b);
      const first = sequence[0]!;
      expect(new Set(sequence).size).toBe(300);
      expect(sequence).toEqual(Array.from({ length: 300 }, (_, i) => first + i));
      const next = await issueInvoice(
        { prisma: db.prisma, now: issuedAt, receivables: receivablesSettings(cfg) },
        { invoiceId: (await closeApril('after-rollback')).invoice.id, actor: 'test' },
      );
      expect(next.number).toBe(`INV-2026-${String(first + 300).padStart(6, '0')}`);
    } finally {
      await Promise.all(clients.map((c) => c.$disconnect()));
    }
  }, 120_000);

  it('starts a new sequence with the calendar year of issue', async () => {
    const cfg = loadConfig({ NODE_ENV: 'test', DATABASE_URL: ctx().db.url });
    const a = await closeApril('new-year-a');
    const b = await closeApril('new-year-b');
    const late = await issueInvoice({ prisma: ctx().db.prisma, now: new Date('2026-12-31T23:59:59Z'), receivables: receivablesSettings(cfg) }, { invoiceId: a.invoice.id, actor: 't' });
    const early = await issueInvoice({ prisma: ctx().db.prisma, now: new Date('2027-01-01T00:00:01Z'), receivables: receivablesSettings(cfg) }, { invoiceId: b.invoice.id, actor: 't' });
    expect(late.number).toMatch(/^INV-2026-\d{6}$/);
    expect(early.number).toBe('INV-2027-000001');
  });

  it('refreshDrafts leaves unchanged drafts alone', async () => {
    clock = new Date('2026-05-01T04:00:00Z');
    const { invoice } = await closeApril('untouched');
    const [summary] = await refreshDrafts({ prisma: ctx().db.prisma, now: clock, receivables: settings() }, { period: april, tenantId: invoice.tenantId });
    expect(summary).toMatchObject({ tenants: 1, unchanged: 1, regenerated: 0 });
  });
});
