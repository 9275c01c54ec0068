// The cost side's API through Fastify on a real database: the balance, cost lines (filters,
// cursor pagination, resource and deployment), provider invoices; 401/403/404 and bad parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { handleBalanceSnapshot } from '../../jobs/balance-snapshot.ts';
import { ingestInvoice } from '../../src/costs/ingest-invoice.ts';
import { syncBillingHistory } from '../../src/costs/sync-billing-history.ts';
import { useTestApp } from '../support/app.ts';
import { seedTenant } from '../support/seed.ts';
import { addInvoice, csvOf, csvRow, startFakeProvider, type FakeProvider } from './fakes.ts';

const now = new Date('2024-08-02T03:00:00Z');
const ctx = useTestApp({ now: () => now });
let fake: FakeProvider;
let deploymentId: string;
let tenantId: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  const { prisma } = ctx().db;
  tenantId = (await seedTenant(prisma, { slug: 'acme' })).id;
  deploymentId = (await prisma.deployment.create({ data: { tenantId, slug: 'prod', displayName: 'Production', region: 'syd1' } })).id;
  await prisma.cloudResource.create({
    data: { provider: 'digitalocean', providerResourceId: '101', kind: 'droplet', name: 'web-1', size: 's-1vcpu-1gb', deploymentId, createdAt: new Date('2024-01-01T00:00:00Z') },
  });
  addInvoice(fake, {
    uuid: 'inv-june',
    invoiceId: '1002',
    period: '2024-06',
    amount: '20.345',
    csv: csvOf([
      csvRow({ description: 'web-1 (s-1vcpu-1gb)', usd: '$5.00', period: '2024-06' }),
      csvRow({ description: 'web-9 (s-1vcpu-1gb)', usd: '$5.345', period: '2024-06' }),
      csvRow({ product: 'Volumes', description: 'data (100 GiB)', usd: '$10.00', period: '2024-06' }),
    ]),
  });
  addInvoice(fake, {
    uuid: 'inv-july',
    invoiceId: '1003',
    period: '2024-07',
    amount: '7.70',
    csv: csvOf([
      csvRow({ description: 'web-1 (s-1vcpu-1gb)', usd: '$7.00', period: '2024-07' }),
      csvRow({ product: 'Taxes', description: 'GST (10%)', usd: '$0.70', hours: '', period: '2024-07', category: 'tax' }),
    ]),
  });
  addInvoice(fake, { uuid: 'inv-broken', invoiceId: '1004', period: '2024-05', amount: '1.00', csv: csvOf([csvRow({ description: 'x (s)', usd: 'oops' })]) });
  await syncBillingHistory({ prisma, boss: null, provider: fake.client(), now });
  for (const uuid of ['inv-june', 'inv-july', 'inv-broken']) {
    await ingestInvoice({ prisma, boss: null, provider: fake.client(), now }, { invoiceUuid: uuid }).catch(() => {});
  }
});
afterAll(async () => {
  await fake.close();
});

const get = async (url: string, roles: Parameters<ReturnType<typeof ctx>['auth']>[0] | null = 'platform_admin') =>
  ctx().app.inject({ method: 'GET', url, headers: roles ? await ctx().auth(roles, roles === 'platform_admin' ? null : tenantId) : {} });

describe('GET /api/v1/billing/balance', () => {
  it('is 404 with a clear message before the first snapshot', async () => {
    const res = await get('/api/v1/billing/balance');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'balance_not_found', message: expect.stringContaining('no balance snapshot yet') });
  });

  it('returns the latest snapshot stored by the balance-snapshot job, amounts as exact strings', async () => {
    const { db, boss, config } = ctx();
    const deps = { prisma: db.prisma, boss, config, logger: pino({ level: 'silent' }), now: () => now, provider: fake.client() };
    fake.balance = { month_to_date_balance: '23.44', account_balance: '-12.235', month_to_date_usage: '11.21', generated_at: '2024-08-02T02:59:00Z' };
    await handleBalanceSnapshot(deps);
    fake.balance = { ...fake.balance, month_to_date_usage: '11.5', generated_at: '2024-08-02T03:00:00Z' };
    await handleBalanceSnapshot({ ...deps, now: () => new Date(now.getTime() + 1000) });

    const res = await get('/api/v1/billing/balance');

    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      month_to_date_balance: { amount: '23.44', amount_micros: 23_440_000, amount_minor: 2344, currency: 'USD' },
      account_balance: { amount: '-12.235', amount_micros: -12_235_000, amount_minor: null, currency: 'USD' },
      month_to_date_usage: { amount: '11.50', amount_micros: 11_500_000, amount_minor: 1150, currency: 'USD' },
      generated_at: '2024-08-02T03:00:00.000Z',
      fetched_at: '2024-08-02T03:00:01.000Z',
    });
  });

  it('is for platform_admin only', async () => {
    expect((await get('/api/v1/billing/balance', null)).statusCode).toBe(401);
    expect((await get('/api/v1/billing/balance', 'finance')).statusCode).toBe(403);
    expect((await get('/api/v1/billing/balance', 'tenant_admin')).statusCode).toBe(403);
  });
});

describe('GET /api/v1/billing/cost-lines', () => {
  it('lists lines newest month first, with their resource and deployment when matched', async () => {
    const res = await get('/api/v1/billing/cost-lines');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.next_cursor).toBeNull();
    expect(body.data.map((l: { invoice_uuid: string; row_number: number }) => `${l.invoice_uuid}#${l.row_number}`)).toEqual([
      'inv-july#1',
      'inv-july#2',
      'inv-june#1',
      'inv-june#2',
      'inv-june#3',
    ]);
    const [first] = body.data;
    expect(first).toMatchObject({
      invoice_uuid: 'inv-july',
      invoice_id: '1003',
      period: '2024-07',
      row_number: 1,
      kind: 'droplet',
      product: 'Droplets',
      description: 'web-1 (s-1vcpu-1gb)',
      resource_name: 'web-1',
      hours: '744',
      period_start: '2024-07-01T00:00:00.000Z',
      period_end: '2024-08-01T00:00:00.000Z',
      usd_raw: '$7.00',
      amount: { amount: '7.00', amount_micros: 7_000_000, amount_minor: 700, currency: 'USD' },
      matched: true,
      resource: { provider_resource_id: '101', kind: 'droplet', name: 'web-1', size: 's-1vcpu-1gb', deleted_at: null },
      deployment: { id: deploymentId, slug: 'prod', display_name: 'Production', tenant_id: tenantId },
    });
    expect(first.hours).toBe('744');
    const webNine = body.data.find((l: { description: string }) => l.description === 'web-9 (s-1vcpu-1gb)');
    expect(webNine).toMatchObject({ matched: false, resource: null, deployment: null, amount: { amount: '5.345', amount_micros: 5_345_000, amount_minor: null } });
  });

  it('filters by billing month, kind and matched', async () => {
    const keys = async (query: string) =>
      (await get(`/api/v1/billing/cost-lines?${query}`)).json().data.map((l: { invoice_uuid: string; row_number: number }) => `${l.invoice_uuid}#${l.row_number}`);
    expect(await keys('period=2024-06-01')).toEqual(['inv-june#1', 'inv-june#2', 'inv-june#3']);
    expect(await keys('period=2024-06')).toEqual(['inv-june#1', 'inv-june#2', 'inv-june#3']);
    expect(await keys('kind=tax')).toEqual(['inv-july#2']);
    expect(await keys('matched=true')).toEqual(['inv-july#1', 'inv-june#1']);
    expect(await keys('matched=false&period=2024-06-01&kind=droplet')).toEqual(['inv-june#2']);
    expect(await keys('invoice_uuid=inv-july')).toEqual(['inv-july#1', 'inv-july#2']);
    expect(await keys('period=2023-01-01')).toEqual([]);
  });

  it('pages with a cursor until next_cursor is null', async () => {
    const seen: string[] = [];
    let url = '/api/v1/billing/cost-lines?limit=2';
    for (let pages = 0; ; pages++) {
      const body = (await get(url)).json();
      seen.push(...body.data.map((l: { invoice_uuid: string; row_number: number }) => `${l.invoice_uuid}#${l.row_number}`));
      if (!body.next_cursor) break;
      expect(pages).toBeLessThan(5);
      url = `/api/v1/billing/cost-lines?limit=2&cursor=${encodeURIComponent(body.next_cursor)}`;
    }
    expect(seen).toEqual(['inv-july#1', 'inv-july#2', 'inv-june#1', 'inv-june#2', 'inv-june#3']);
  });

  it('answers 400 naming the parameter at fault', async () => {
    const bad = async (query: string) => {
      const res = await get(`/api/v1/billing/cost-lines?${query}`);
      expect(res.statusCode, query).toBe(400);
      return res.json().field;
    };
    expect(await bad('period=2024-06-15')).toBe('period');
    expect(await bad('period=2024-13-01')).toBe('period');
    expect(await bad('period=june')).toBe('period');
    expect(await bad('kind=server')).toBe('kind');
    expect(await bad('matched=yes')).toBe('matched');
    expect(await bad('limit=0')).toBe('limit');
    expect(await bad('limit=201')).toBe('limit');
    expect(await bad('limit=ten')).toBe('limit');
    expect(await bad('cursor=not-a-cursor')).toBe('cursor');
  });

  it('is for platform_admin only', async () => {
    expect((await get('/api/v1/billing/cost-lines', null)).statusCode).toBe(401);
    expect((await get('/api/v1/billing/cost-lines', 'finance')).statusCode).toBe(403);
  });
});

describe('GET /api/v1/billing/provider-invoices', () => {
  it('lists headers with ingest and push status, counts and the last error', async () => {
    const res = await get('/api/v1/billing/provider-invoices');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.map((h: { invoice_uuid: string }) => h.invoice_uuid)).toEqual(['inv-july', 'inv-june', 'inv-broken']);
    expect(body.data[1]).toEqual({
      invoice_uuid: 'inv-june',
      invoice_id: '1002',
      period: '2024-06',
      description: 'Invoice for 2024-06',
      date: '2024-07-01T08:44:38.000Z',
      amount: { amount: '20.345', amount_micros: 20_345_000, amount_minor: null, currency: 'USD' },
      ingest: {
        status: 'ingested',
        ingested_at: now.toISOString(),
        line_count: 3,
        matched_count: 1,
        unmatched_count: 2,
        lines_total: { amount: '20.345', amount_micros: 20_345_000, amount_minor: null, currency: 'USD' },
        amount_mismatch: false,
        csv_checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
        last_error: null,
      },
      push: { status: 'pending', pushed_at: null, finance_invoice_id: null, action: null, pushed_checksum: null, error: null },
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    });
    expect(body.data[2].ingest).toMatchObject({ status: 'failed', line_count: null, last_error: 'invoice CSV row 1: unparsable USD amount "oops"' });
  });

  it('filters by status and month, pages, and rejects bad parameters with 400', async () => {
    const uuids = async (query: string) => (await get(`/api/v1/billing/provider-invoices?${query}`)).json().data.map((h: { invoice_uuid: string }) => h.invoice_uuid);
    expect(await uuids('ingest_status=failed')).toEqual(['inv-broken']);
    expect(await uuids('push_status=pending&period=2024-07-01')).toEqual(['inv-july']);
    const first = (await get('/api/v1/billing/provider-invoices?limit=2')).json();
    expect(first.data).toHaveLength(2);
    const second = (await get(`/api/v1/billing/provider-invoices?limit=2&cursor=${first.next_cursor}`)).json();
    expect(second).toMatchObject({ data: [{ invoice_uuid: 'inv-broken' }], next_cursor: null });

    for (const [query, field] of [
      ['ingest_status=done', 'ingest_status'],
      ['push_status=maybe', 'push_status'],
      ['period=2024-07-31', 'period'],
      ['cursor=%5B1%5D', 'cursor'],
    ] as const) {
      const res = await get(`/api/v1/billing/provider-invoices?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().field).toBe(field);
    }
    expect((await get('/api/v1/billing/provider-invoices', null)).statusCode).toBe(401);
    expect((await get('/api/v1/billing/provider-invoices', 'tenant_member')).statusCode).toBe(403);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await ctx().app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/billing/balance', '/api/v1/billing/cost-lines', '/api/v1/billing/provider-invoices']));
  });
});
