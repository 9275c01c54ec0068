// vendor-bill-push against a stand-in finance service that verifies the service JWT and dedups:
// created, then updated for a changed CSV, never repeated for an unchanged one; finance down
// then up; a 4xx recorded without retry; no FINANCE_URL → skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { handleVendorBillPush } from '../../jobs/vendor-bill-push.ts';
import { FinanceUnavailableError } from '../../src/costs/finance-client.ts';
import { ingestInvoice } from '../../src/costs/ingest-invoice.ts';
import { pushVendorBillForInvoice } from '../../src/costs/push-vendor-bill.ts';
import { syncBillingHistory } from '../../src/costs/sync-billing-history.ts';
import { syncCosts } from '../../src/costs/sync-costs.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { useTestApp } from '../support/app.ts';
import { addInvoice, csvOf, csvRow, FINANCE_SECRET, startFakeFinance, startFakeProvider, type FakeFinance, type FakeProvider } from './fakes.ts';

const ctx = useTestApp();
const now = new Date('2024-08-02T03:00:00Z');
const basicCsv = readFileSync(new URL('./fixtures/invoice-basic.csv', import.meta.url), 'utf8');
let provider: FakeProvider;
let finance: FakeFinance;

beforeAll(async () => {
  provider = await startFakeProvider();
  finance = await startFakeFinance();
});
afterAll(async () => {
  await provider.close();
  await finance.close();
});

async function ingested(uuid: string, csv: string, amount: string, period = '2020-07') {
  if (!provider.summaries.has(uuid)) addInvoice(provider, { uuid, invoiceId: `INV-${uuid}`, period, amount, csv, date: '2020-08-01T08:44:38Z' });
  provider.csvs.set(uuid, csv);
  await syncBillingHistory({ prisma: ctx().db.prisma, boss: null, provider: provider.client(), now });
  return ingestInvoice({ prisma: ctx().db.prisma, boss: null, provider: provider.client(), now }, { invoiceUuid: uuid });
}

const financeOptions = () => ({ financeUrl: finance.url, jwtSecret: FINANCE_SECRET });
const push = (uuid: string, o: { finance?: ReturnType<typeof financeOptions> | null; redeliver?: boolean } = {}) =>
  pushVendorBillForInvoice({ prisma: ctx().db.prisma, finance: o.finance === undefined ? financeOptions() : o.finance, now }, { invoiceUuid: uuid, redeliver: o.redeliver ?? false });
const header = (uuid: string) => ctx().db.prisma.providerInvoice.findUniqueOrThrow({ where: { invoiceUuid: uuid } });

describe('vendor-bill-push', () => {
  it('pushes the bill finance expects: net + tax = gross, GST into tax, each line rounded once', async () => {
    await ingested('inv-1', basicCsv, '1377.82');

    const outcome = await push('inv-1');

    expect(outcome).toEqual({ invoiceUuid: 'inv-1', status: 'pushed', action: 'created', financeInvoiceId: 'fin-1' });
    expect(finance.accepted).toHaveLength(1);
    expect(finance.accepted[0]!.body).toEqual({
      source: 'digitalocean',
      external_id: 'inv-1',
      invoice_number: 'INV-inv-1',
      period: '2020-07',
      currency: 'USD',
      amount_gross_minor: 137_782,
      amount_net_minor: 125_256,
      amount_tax_minor: 12_526,
      issued_at: '2020-08-01T08:44:38.000Z',
      lines: [
        { description: 'web-1 (s-1vcpu-1gb)', product: 'Droplets', amount_minor: 500, kind: 'droplet' },
        { description: 'db-primary (s-8vcpu-16gb)', product: 'Droplets', amount_minor: 123_456, kind: 'droplet' },
        { description: 'data, logs (100 GiB)', product: 'Volumes', amount_minor: 1000, kind: 'volume' },
        { description: 'Spaces (250 GiB)', product: 'Spaces Subscription', amount_minor: 500, kind: 'spaces' },
        { description: 'Promo credit', product: 'Credits', amount_minor: -100, kind: 'other' },
        { description: 'Referral credit', product: 'Credits', amount_minor: -100, kind: 'other' },
        { description: 'GST (10%)', product: 'Taxes', amount_minor: 12_526, kind: 'tax' },
      ],
    });
    const h = await header('inv-1');
    expect(h).toMatchObject({ pushStatus: 'pushed', financeInvoiceId: 'fin-1', financeAction: 'created', pushedChecksum: h.csvChecksum, pushError: null });
    expect(h.pushedToFinanceAt?.toISOString()).toBe(now.toISOString());
  });

  it('does not push an unchanged invoice again', async () => {
    const requests = finance.requests.length;
    expect(await push('inv-1')).toEqual({ invoiceUuid: 'inv-1', status: 'unchanged' });
    // the same CSV ingested again does not make the push due either
    await ingested('inv-1', basicCsv, '1377.82');
    expect(await push('inv-1')).toMatchObject({ status: 'unchanged' });
    expect(finance.requests.length).toBe(requests);
  });

  it('pushes a changed CSV again, and finance updates the bill it has', async () => {
    const changed = csvOf([
      csvRow({ description: 'web-1 (s-1vcpu-1gb)', usd: '$0.005', period: '2020-07' }),
      csvRow({ product: 'Taxes', description: 'GST (10%)', usd: '$0.005', hours: '', period: '2020-07', category: 'tax' }),
    ]);
    const ingest = await ingested('inv-1', changed, '0.01');
    expect(ingest.status).toBe('ingested');
    expect(await header('inv-1')).toMatchObject({ pushStatus: 'pending' });

    expect(await push('inv-1')).toMatchObject({ status: 'pushed', action: 'updated', financeInvoiceId: 'fin-1' });
    // $0.005 + $0.005: gross and tax rounded once (1 cent each), net is the difference
    expect(finance.accepted.at(-1)!.body).toMatchObject({ amount_gross_minor: 1, amount_tax_minor: 1, amount_net_minor: 0 });
    expect(await header('inv-1')).toMatchObject({ pushStatus: 'pushed', financeAction: 'updated' });
  });

  it('finance down (503): the error is recorded, the push stays pending and throws for the job to retry; the retry succeeds', async () => {
    await ingested('inv-2', csvOf([csvRow({ description: 'web-1 (s)', usd: '$3.00' })]), '3.00');
    finance.failNext(1, 503);

    const error = await push('inv-2').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FinanceUnavailableError);
    expect(await header('inv-2')).toMatchObject({ pushStatus: 'pending', pushError: expect.stringContaining('HTTP 503'), pushedChecksum: null });

    expect(await push('inv-2')).toMatchObject({ status: 'pushed', action: 'created' });
    expect(await header('inv-2')).toMatchObject({ pushStatus: 'pushed', pushError: null });
  });

  it('a 4xx is recorded as failed with the body, and not retried', async () => {
    await ingested('inv-3', csvOf([csvRow({ description: 'web-1 (s)', usd: '$4.00' })]), '4.00');
    finance.failNext(1, 422, { error: 'validation_failed', details: [{ path: 'period', message: 'period is closed' }] });

    const outcome = await push('inv-3');

    expect(outcome).toMatchObject({ status: 'failed' });
    const h = await header('inv-3');
    expect(h.pushStatus).toBe('failed');
    expect(h.pushError).toBe('finance rejected the bill: HTTP 422 {"error":"validation_failed","details":[{"path":"period","message":"period is closed"}]}');
    expect(h.pushedChecksum).toBeNull();
    expect(h.refusedChecksum).toBe(h.csvChecksum);
  });

  it('a refused bill is not sent again while its CSV is unchanged (also by costs:sync --all); --redeliver or a changed CSV sends it', async () => {
    const requests = finance.requests.length;
    expect(await push('inv-3')).toEqual({ invoiceUuid: 'inv-3', status: 'unchanged', refused: true });
    const sync = (redeliver: boolean) =>
      syncCosts({ prisma: ctx().db.prisma, provider: provider.client(), finance: financeOptions(), now: () => now }, { all: true, redeliver });
    const summary = await sync(false);
    expect(summary.pushes.refused_before).toBe(1);
    expect(finance.requests.slice(requests).filter((r) => JSON.stringify(r).includes('inv-3'))).toHaveLength(0);
    expect(finance.requests.length - requests).toBe(summary.pushes.pushed); // only other invoices' pending pushes, if any
    expect((await header('inv-3')).pushStatus).toBe('failed');

    // Asked to: sent again (finance refuses once more here, and it is remembered again).
    finance.failNext(1, 422, { error: 'validation_failed' });
    expect(await push('inv-3', { redeliver: true })).toMatchObject({ status: 'failed' });
    expect(await push('inv-3', { redeliver: true })).toMatchObject({ status: 'pushed', action: 'created' });
    expect(await header('inv-3')).toMatchObject({ pushStatus: 'pushed', refusedChecksum: null });

    // A changed CSV after a refusal is sent without being asked.
    await ingested('inv-5', csvOf([csvRow({ description: 'web-1 (s)', usd: '$5.00' })]), '5.00');
    finance.failNext(1, 422, { error: 'validation_failed' });
    expect(await push('inv-5')).toMatchObject({ status: 'failed' });
    await ingested('inv-5', csvOf([csvRow({ description: 'web-1 (s)', usd: '$6.00' })]), '6.00');
    expect(await push('inv-5')).toMatchObject({ status: 'pushed' });
  });

  it('without FINANCE_URL the push is skipped and recorded; the ingest is not affected', async () => {
    await ingested('inv-4', csvOf([csvRow({ description: 'web-1 (s)', usd: '$4.00' })]), '4.00');
    const requests = finance.requests.length;
    expect(await push('inv-4', { finance: null })).toEqual({ invoiceUuid: 'inv-4', status: 'skipped' });
    expect(await header('inv-4')).toMatchObject({ ingestStatus: 'ingested', pushStatus: 'skipped', pushError: 'not pushed: FINANCE_URL is not configured' });
    expect(finance.requests.length).toBe(requests);
  });

  it('the job handler takes finance from the configuration; a 5xx makes the job throw', async () => {
    const { db, boss } = ctx();
    const configured = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', FINANCE_URL: finance.url, FINANCE_JWT_SECRET: FINANCE_SECRET });
    const deps = { prisma: db.prisma, boss, config: configured, logger: pino({ level: 'silent' }), now: () => now };
    finance.failNext(1, 502);
    await expect(handleVendorBillPush(deps, { data: { invoiceUuid: 'inv-4' } })).rejects.toBeInstanceOf(FinanceUnavailableError);
    await expect(handleVendorBillPush(deps, { data: { invoiceUuid: 'inv-4' } })).resolves.toMatchObject({ status: 'pushed', action: 'created' });
    // unconfigured
    const bare = { ...deps, config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }) };
    await ingested('inv-5', csvOf([csvRow({ description: 'web-1 (s)', usd: '$5.00' })]), '5.00');
    await expect(handleVendorBillPush(bare, { data: { invoiceUuid: 'inv-5' } })).resolves.toMatchObject({ status: 'skipped' });
  });

  it('refuses FINANCE_URL without its secret at start-up', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', FINANCE_URL: finance.url })).toThrow(/FINANCE_JWT_SECRET/);
  });
});
