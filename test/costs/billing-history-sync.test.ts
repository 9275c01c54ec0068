// billing-history-sync on a real database and a real pg-boss, against the fake provider: the walk
// across pages (with a 429 and a 500 on the way), one header per invoice uuid, and one queued
// invoice-ingest job per invoice however many times the sync runs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { QUEUES } from '../../jobs/catalog.ts';
import { handleBillingHistorySync } from '../../jobs/billing-history-sync.ts';
import { syncBillingHistory } from '../../src/costs/sync-billing-history.ts';
import { useTestApp } from '../support/app.ts';
import { addInvoice, CLIENT_NOW, csvOf, csvRow, startFakeProvider, type FakeProvider } from './fakes.ts';

const ctx = useTestApp();
const now = new Date('2024-08-02T02:23:00Z');
let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider();
  addInvoice(fake, { uuid: 'uuid-may', invoiceId: '1001', period: '2024-05', amount: '12.34', csv: csvOf([csvRow({ description: 'web-1 (s-1vcpu-1gb)', usd: '$12.34' })]) });
  fake.history.push({ description: 'Payment (MC 1234)', amount: '-12.34', date: '2024-06-02T08:44:38Z', type: 'Payment' });
  addInvoice(fake, { uuid: 'uuid-june', invoiceId: '1002', period: '2024-06', amount: '1234.56' });
  fake.history.push({ description: 'Credit', amount: '-5.00', date: '2024-07-03T00:00:00Z', type: 'Credit' });
  addInvoice(fake, { uuid: 'uuid-july', invoiceId: '1003', period: '2024-07', amount: '0.01' });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.sleeps.length = 0;
});

const queuedIngests = async (uuid?: string) =>
  (await ctx().boss.findJobs(QUEUES.invoiceIngest, { queued: true, ...(uuid ? { key: uuid } : {}) })).map((j) => j.singletonKey);

describe('billing-history-sync', () => {
  it('walks every page, retrying a 429 after ratelimit-reset and a 500, and stores one header per invoice', async () => {
    const { db, boss } = ctx();
    fake.faults.push(
      { path: '/v2/customers/my/billing_history?page=2', status: 429, headers: { 'ratelimit-reset': String(CLIENT_NOW / 1000 + 2) } },
      { path: '/v2/customers/my/invoices/uuid-june/summary', status: 500 },
    );

    const result = await syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client(), now });

    expect(result).toMatchObject({ entries: 5, invoices: 3, created: 3, queued: 3, notIngested: ['uuid-may', 'uuid-june', 'uuid-july'] });
    // 3 pages of 2 entries; page 2 twice (429), the June summary twice (500)
    const paths = fake.requests.map((r) => r.url);
    expect(paths.filter((p) => p.startsWith('/v2/customers/my/billing_history'))).toEqual([
      '/v2/customers/my/billing_history?page=1&per_page=2',
      '/v2/customers/my/billing_history?page=2&per_page=2',
      '/v2/customers/my/billing_history?page=2&per_page=2',
      '/v2/customers/my/billing_history?page=3&per_page=2',
    ]);
    expect(paths.filter((p) => p.endsWith('/summary'))).toHaveLength(4);
    expect(fake.sleeps[0]).toBe(2000); // waited until ratelimit-reset

    const headers = await db.prisma.providerInvoice.findMany({ orderBy: { period: 'asc' } });
    expect(headers.map((h) => [h.invoiceUuid, h.invoiceId, h.period.toISOString(), h.amount.toString(), h.ingestStatus, h.pushStatus])).toEqual([
      ['uuid-may', '1001', '2024-05-01T00:00:00.000Z', '12.34', 'pending', 'pending'],
      ['uuid-june', '1002', '2024-06-01T00:00:00.000Z', '1234.56', 'pending', 'pending'],
      ['uuid-july', '1003', '2024-07-01T00:00:00.000Z', '0.01', 'pending', 'pending'],
    ]);
    expect(headers[0]).toMatchObject({ description: 'Invoice for 2024-05', date: new Date('2024-06-01T08:44:38Z') });
  });

  it('run again (and twice at once) it creates nothing, fetches no summary and leaves exactly one queued ingest per invoice', async () => {
    const { db, boss } = ctx();
    const again = await syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client(), now });
    expect(again).toMatchObject({ invoices: 3, created: 0, queued: 0 });
    expect(fake.requests.filter((r) => r.url.endsWith('/summary'))).toHaveLength(0);

    const both = await Promise.all([1, 2].map(() => syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client(), now })));
    expect(both.map((r) => r.queued)).toEqual([0, 0]);

    expect((await queuedIngests()).sort()).toEqual(['uuid-july', 'uuid-june', 'uuid-may']);
    for (const uuid of ['uuid-may', 'uuid-june', 'uuid-july']) expect(await queuedIngests(uuid)).toHaveLength(1);
    expect(await db.prisma.providerInvoice.count()).toBe(3);
  });

  it('updates a known header from the history (ON CONFLICT DO UPDATE) without touching its number or month', async () => {
    const { db, boss } = ctx();
    fake.history[0] = { ...fake.history[0]!, amount: '12.35', description: 'Invoice for May 2024 (reissued)' };
    await syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client(), now });
    const may = await db.prisma.providerInvoice.findUniqueOrThrow({ where: { invoiceUuid: 'uuid-may' } });
    expect(may).toMatchObject({ invoiceId: '1001', description: 'Invoice for May 2024 (reissued)' });
    expect(may.amount.toString()).toBe('12.35');
    expect(may.period.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    fake.history[0] = { ...fake.history[0]!, amount: '12.34', description: 'Invoice for 2024-05' };
  });

  it('queues an invoice again once its queued job is gone (completed or dead-lettered) and it is still not ingested', async () => {
    const { db, boss } = ctx();
    const [job] = await boss.findJobs(QUEUES.invoiceIngest, { key: 'uuid-july', queued: true });
    await boss.cancel(QUEUES.invoiceIngest, job!.id);
    const result = await syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client(), now });
    expect(result.queued).toBe(1);
    expect(await queuedIngests('uuid-july')).toHaveLength(1);
  });

  it('queues the vendor-bill push again for an ingested invoice whose push is pending or was skipped, never for a pushed one', async () => {
    const { db, boss } = ctx();
    const ingested = { ingestStatus: 'ingested' as const, csvChecksum: 'c', lineCount: 1, matchedCount: 0 };
    await db.prisma.providerInvoice.update({ where: { invoiceUuid: 'uuid-may' }, data: { ...ingested, pushStatus: 'skipped' } });
    await db.prisma.providerInvoice.update({ where: { invoiceUuid: 'uuid-june' }, data: { ...ingested, pushStatus: 'pending' } });
    await db.prisma.providerInvoice.update({ where: { invoiceUuid: 'uuid-july' }, data: { ...ingested, pushStatus: 'pushed', pushedChecksum: 'c' } });

    const result = await syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client(), now });

    expect(result).toMatchObject({ queued: 0, notIngested: [], pushesQueued: 2 });
    const pushes = await boss.findJobs(QUEUES.vendorBillPush, { queued: true });
    expect(pushes.map((j) => j.singletonKey).sort()).toEqual(['uuid-june', 'uuid-may']);
    expect((await syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client(), now })).pushesQueued).toBe(0); // already queued
  });

  it('fails without writing anything when a page cannot be read, so the job retries', async () => {
    const { db, boss } = ctx();
    addInvoice(fake, { uuid: 'uuid-august', invoiceId: '1004', period: '2024-08', amount: '1.00' });
    fake.faults.push({ path: '/v2/customers/my/billing_history?page=3', status: 500, times: 10 });
    await expect(syncBillingHistory({ prisma: db.prisma, boss, provider: fake.client({ maxRetries: 1 }), now })).rejects.toThrow(/HTTP 500/);
    expect(await db.prisma.providerInvoice.count({ where: { invoiceUuid: 'uuid-august' } })).toBe(0);
    fake.faults.length = 0;
    fake.history.pop();
    fake.summaries.delete('uuid-august');
  });

  it('the job handler does nothing but log when the provider is not configured', async () => {
    const { db, boss, config } = ctx();
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) });
    const result = await handleBillingHistorySync({ prisma: db.prisma, boss, config, logger, now: () => now });
    expect(result).toEqual({ skipped: 'provider_not_configured' });
    expect(logs.join('')).toContain('PROVIDER_TOKEN is not set');
  });
});
