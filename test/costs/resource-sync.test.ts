// resource-sync on a real database against the fake provider: upserts droplets and volumes,
// marks the ones no longer listed as deleted (only after complete listings), never reassigns a
// deployment, and matches cost lines that were waiting for their resource.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { handleResourceSync } from '../../jobs/resource-sync.ts';
import { ingestInvoice } from '../../src/costs/ingest-invoice.ts';
import { syncBillingHistory } from '../../src/costs/sync-billing-history.ts';
import { syncResources } from '../../src/costs/sync-resources.ts';
import { useTestApp } from '../support/app.ts';
import { seedTenant } from '../support/seed.ts';
import { addInvoice, csvOf, csvRow, startFakeProvider, type FakeProvider } from './fakes.ts';

const ctx = useTestApp();
let now = new Date('2024-08-02T02:11:00Z');
let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider();
  fake.droplets = [
    { id: 101, name: 'web-1', size_slug: 's-1vcpu-1gb', created_at: '2024-01-01T00:00:00Z' },
    { id: 102, name: 'web-2', size_slug: 's-2vcpu-4gb', created_at: '2024-02-01T00:00:00Z' },
    { id: 103, name: 'worker', size_slug: 's-1vcpu-1gb', created_at: '2024-03-01T00:00:00Z' },
  ];
  fake.volumes = [{ id: '506f78a4-e098-11e5-ad9f-000f53306ae1', name: 'data', size_gigabytes: 100, created_at: '2024-03-01T00:00:00Z' }];
});
afterAll(async () => {
  await fake.close();
});

const sync = (o: { maxRetries?: number } = {}) => syncResources({ prisma: ctx().db.prisma, provider: fake.client(o), now });
const resources = () => ctx().db.prisma.cloudResource.findMany({ where: { provider: 'digitalocean' }, orderBy: { providerResourceId: 'asc' } });

describe('resource-sync', () => {
  it('inserts droplets and volumes across pages with the provider id, kind, name, size and created_at', async () => {
    expect(await sync()).toMatchObject({ droplets: 3, volumes: 1, inserted: 4, updated: 0, markedDeleted: 0 });
    expect((await resources()).map((r) => [r.providerResourceId, r.kind, r.name, r.size, r.createdAt.toISOString(), r.deploymentId, r.deletedAt])).toEqual([
      ['101', 'droplet', 'web-1', 's-1vcpu-1gb', '2024-01-01T00:00:00.000Z', null, null],
      ['102', 'droplet', 'web-2', 's-2vcpu-4gb', '2024-02-01T00:00:00.000Z', null, null],
      ['103', 'droplet', 'worker', 's-1vcpu-1gb', '2024-03-01T00:00:00.000Z', null, null],
      ['506f78a4-e098-11e5-ad9f-000f53306ae1', 'volume', 'data', '100gb', '2024-03-01T00:00:00.000Z', null, null],
    ]);
    expect(fake.requests.filter((r) => r.url.startsWith('/v2/droplets')).map((r) => r.url)).toEqual(['/v2/droplets?page=1&per_page=2', '/v2/droplets?page=2&per_page=2']);
  });

  it('updates name and size, marks what the provider no longer lists as deleted, and never reassigns a deployment', async () => {
    const { prisma } = ctx().db;
    const tenant = await seedTenant(prisma);
    const deployment = await prisma.deployment.create({ data: { tenantId: tenant.id, slug: 'prod', displayName: 'Prod', region: 'syd1' } });
    await prisma.cloudResource.updateMany({ where: { providerResourceId: { in: ['101', '102'] } }, data: { deploymentId: deployment.id } });
    fake.droplets = [
      { id: 101, name: 'web-1-renamed', size_slug: 's-2vcpu-2gb', created_at: '2024-01-01T00:00:00Z' },
      { id: 103, name: 'worker', size_slug: 's-1vcpu-1gb', created_at: '2024-03-01T00:00:00Z' },
    ];
    now = new Date('2024-08-03T02:11:00Z');

    expect(await sync()).toMatchObject({ droplets: 2, volumes: 1, inserted: 0, updated: 1, markedDeleted: 1 });

    const rows = new Map((await resources()).map((r) => [r.providerResourceId, r]));
    expect(rows.get('101')).toMatchObject({ name: 'web-1-renamed', size: 's-2vcpu-2gb', deploymentId: deployment.id, deletedAt: null });
    expect(rows.get('102')).toMatchObject({ deploymentId: deployment.id, deletedAt: now });
    expect(rows.get('103')).toMatchObject({ deploymentId: null, deletedAt: null });

    // A second run: nothing changes, the deletion time stays.
    now = new Date('2024-08-04T02:11:00Z');
    expect(await sync()).toMatchObject({ inserted: 0, updated: 0, markedDeleted: 0 });
    expect((await prisma.cloudResource.findFirstOrThrow({ where: { providerResourceId: '102' } })).deletedAt?.toISOString()).toBe('2024-08-03T02:11:00.000Z');
  });

  it('marks nothing deleted when a listing fails part-way (and the job retries)', async () => {
    fake.droplets = [{ id: 101, name: 'web-1-renamed', size_slug: 's-2vcpu-2gb', created_at: '2024-01-01T00:00:00Z' }];
    fake.volumes = [];
    fake.faults.push({ path: '/v2/volumes', status: 500, times: 10 });
    await expect(sync({ maxRetries: 1 })).rejects.toThrow(/HTTP 500/);
    expect(await ctx().db.prisma.cloudResource.count({ where: { deletedAt: null } })).toBe(3);
    fake.faults.length = 0;
  });

  it('matches cost lines ingested before their resource was synced, and counts them on the header', async () => {
    const { prisma } = ctx().db;
    addInvoice(fake, {
      uuid: 'inv-early',
      invoiceId: '7',
      period: '2024-07',
      amount: '3.00',
      csv: csvOf([csvRow({ description: 'NEW-BOX (s-1vcpu-1gb)', usd: '$1.00', period: '2024-07' }), csvRow({ description: 'ghost (s-1vcpu-1gb)', usd: '$2.00', period: '2024-07' })]),
    });
    await syncBillingHistory({ prisma, boss: null, provider: fake.client(), now });
    expect(await ingestInvoice({ prisma, boss: null, provider: fake.client(), now }, { invoiceUuid: 'inv-early' })).toMatchObject({ matchedCount: 0 });

    fake.droplets.push({ id: 104, name: 'new-box', size_slug: 's-1vcpu-1gb', created_at: '2024-07-01T00:00:00Z' });
    fake.volumes = [{ id: '506f78a4-e098-11e5-ad9f-000f53306ae1', name: 'data', size_gigabytes: 100, created_at: '2024-03-01T00:00:00Z' }];
    expect(await sync()).toMatchObject({ inserted: 1, linesMatched: 1 });

    const h = await prisma.providerInvoice.findUniqueOrThrow({ where: { invoiceUuid: 'inv-early' }, include: { lines: { orderBy: { rowNumber: 'asc' } } } });
    expect(h.matchedCount).toBe(1);
    expect(h.lines.map((l) => l.cloudResourceId !== null)).toEqual([true, false]);
  });

  it('the job handler does nothing without a provider', async () => {
    const { db, boss, config } = ctx();
    await expect(handleResourceSync({ prisma: db.prisma, boss, config, logger: pino({ level: 'silent' }), now: () => now })).resolves.toEqual({
      skipped: 'provider_not_configured',
    });
  });
});
