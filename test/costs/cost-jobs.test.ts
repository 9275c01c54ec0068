// The cost side through real pg-boss workers (startWorkers), end to end: billing-history-sync →
// invoice-ingest → vendor-bill-push, with finance down for the first push (the job's retry
// succeeds) and a refused CSV that retries and lands in the dead-letter queue. Retry delays are
// lowered on the queues so the suite stays fast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DEAD_LETTER_QUEUE, QUEUES } from '../../jobs/catalog.ts';
import { startWorkers } from '../../jobs/worker.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { useTestApp } from '../support/app.ts';
import { waitFor } from '../support/wait.ts';
import { addInvoice, csvOf, csvRow, FINANCE_SECRET, startFakeFinance, startFakeProvider, type FakeFinance, type FakeProvider } from './fakes.ts';

const ctx = useTestApp();
let provider: FakeProvider;
let finance: FakeFinance;


beforeAll(async () => {
  provider = await startFakeProvider();
  finance = await startFakeFinance();
  addInvoice(provider, {
    uuid: 'inv-good',
    invoiceId: '2001',
    period: '2024-06',
    amount: '11.00',
    csv: csvOf([
      csvRow({ description: 'web-1 (s-1vcpu-1gb)', usd: '$10.00', period: '2024-06' }),
      csvRow({ product: 'Taxes', description: 'GST (10%)', usd: '$1.00', hours: '', period: '2024-06', category: 'tax' }),
    ]),
  });
  addInvoice(provider, { uuid: 'inv-bad', invoiceId: '2002', period: '2024-07', amount: '1.00', csv: csvOf([csvRow({ description: 'web-1 (s)', usd: '$1.00', period: '2024-07' }), 'Droplets,,short']) });
  provider.droplets = [{ id: 101, name: 'web-1', size_slug: 's-1vcpu-1gb', created_at: '2024-01-01T00:00:00Z' }];

  const { db, boss } = ctx();
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: db.url, FINANCE_URL: finance.url, FINANCE_JWT_SECRET: FINANCE_SECRET });
  await startWorkers(
    { prisma: db.prisma, boss, config, logger: pino({ level: 'silent' }), now: () => new Date(), provider: provider.client() },
    { catchUpOnStart: false, pollingIntervalSeconds: 0.5 },
  );
  for (const queue of [QUEUES.invoiceIngest, QUEUES.vendorBillPush]) await boss.updateQueue(queue, { retryLimit: 2, retryDelay: 1, retryBackoff: false });
});
afterAll(async () => {
  for (const queue of Object.values(QUEUES)) await ctx().boss.offWork(queue).catch(() => {});
  await provider.close();
  await finance.close();
});

describe('cost jobs through pg-boss workers', () => {
  it('resource-sync and balance-snapshot run as queued jobs', async () => {
    const { boss, db } = ctx();
    await boss.send(QUEUES.resourceSync, {});
    await boss.send(QUEUES.balanceSnapshot, {});
    await waitFor(async () => (await db.prisma.cloudResource.count({ where: { providerResourceId: '101' } })) === 1, 'the droplet to be synced');
    await waitFor(async () => (await db.prisma.balanceSnapshot.count()) === 1, 'a balance snapshot');
  });

  it('sync → ingest → push: finance down for the first push, the job retries and the bill is pushed once', async () => {
    const { boss, db } = ctx();
    finance.failNext(1, 503);

    await boss.send(QUEUES.billingHistorySync, {});

    const pushed = await waitFor(async () => {
      const h = await db.prisma.providerInvoice.findUnique({ where: { invoiceUuid: 'inv-good' } });
      return h?.pushStatus === 'pushed' ? h : null;
    }, 'inv-good to be pushed');
    expect(pushed).toMatchObject({ ingestStatus: 'ingested', lineCount: 2, matchedCount: 1, financeAction: 'created', financeInvoiceId: 'fin-1', pushError: null });
    expect(finance.requests).toHaveLength(2); // the 503, then the retry
    expect(finance.accepted.map((a) => a.body.external_id)).toEqual(['inv-good']);
    expect(finance.accepted[0]!.body).toMatchObject({ amount_gross_minor: 1100, amount_net_minor: 1000, amount_tax_minor: 100, period: '2024-06' });

    const [pushJob] = await boss.findJobs(QUEUES.vendorBillPush, { key: 'inv-good' });
    expect(pushJob).toMatchObject({ state: 'completed', retryCount: 1 });
    const line = await db.prisma.costLine.findFirstOrThrow({ where: { providerInvoice: { invoiceUuid: 'inv-good' }, rowNumber: 1 } });
    expect(line.cloudResourceId).not.toBeNull();
  });

  it('a refused CSV is retried, then dead-lettered, with its row and reason on the header', async () => {
    const { boss, db } = ctx();
    const dead = await waitFor(async () => {
      const [job] = await boss.findJobs(DEAD_LETTER_QUEUE, { data: { invoiceUuid: 'inv-bad' } });
      return job;
    }, 'the bad invoice to be dead-lettered');
    expect(dead).toMatchObject({ sourceName: QUEUES.invoiceIngest, sourceRetryCount: 2 });
    const h = await db.prisma.providerInvoice.findUniqueOrThrow({ where: { invoiceUuid: 'inv-bad' } });
    expect(h).toMatchObject({ ingestStatus: 'failed', lineCount: null });
    expect(h.lastError).toMatch(/^invoice CSV row 2: malformed CSV/);
    expect(await db.prisma.costLine.count({ where: { providerInvoiceId: h.id } })).toBe(0);
  });

  it('a second sync queues nothing for the ingested invoice and pushes nothing again', async () => {
    const { boss } = ctx();
    const requests = finance.requests.length;
    const jobId = await boss.send(QUEUES.billingHistorySync, {});
    await waitFor(async () => (await boss.findJobs(QUEUES.billingHistorySync, { id: jobId! }))[0]?.state === 'completed', 'the second sync');
    const [sync] = await boss.findJobs(QUEUES.billingHistorySync, { id: jobId! });
    // inv-bad (failed) is queued again for tomorrow's attempt; inv-good is left alone
    expect(sync!.output).toMatchObject({ invoices: 2, created: 0, queued: 1, notIngested: 1, pushesQueued: 0 });
    expect(await boss.findJobs(QUEUES.invoiceIngest, { key: 'inv-good', queued: true })).toHaveLength(0);
    expect(finance.requests.length).toBe(requests);
  });
});
