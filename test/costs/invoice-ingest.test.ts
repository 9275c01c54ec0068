// invoice-ingest on a real database and a real pg-boss, the CSV served by the fake provider:
// every quirk of the provider's file into cost_lines, replace and no-op semantics, matching,
// a refused CSV that keeps the stored lines, and the amount mismatch flag.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { QUEUES } from '../../jobs/catalog.ts';
import { handleInvoiceIngest } from '../../jobs/invoice-ingest.ts';
import { ingestInvoice } from '../../src/costs/ingest-invoice.ts';
import { csvChecksum, InvoiceCsvError, resourceNameOf } from '../../src/costs/invoice-csv.ts';
import { createProviderClient, ProviderApiError } from '../../src/costs/provider-client.ts';
import { syncBillingHistory } from '../../src/costs/sync-billing-history.ts';
import { useTestApp } from '../support/app.ts';
import { seedTenant } from '../support/seed.ts';
import { addInvoice, csvOf, csvRow, startFakeProvider, type FakeProvider } from './fakes.ts';

const ctx = useTestApp();
const now = new Date('2024-08-02T03:00:00Z');
const basicCsv = readFileSync(new URL('./fixtures/invoice-basic.csv', import.meta.url), 'utf8');
// The file starts with a BOM; undici's UTF-8 decoding drops it, so the checksum is of the text without it.
const basicChecksum = csvChecksum(basicCsv.replace(/^\uFEFF/, ''));
const malformedCsv = readFileSync(new URL('./fixtures/invoice-malformed.csv', import.meta.url), 'utf8');
let fake: FakeProvider;
let deploymentId: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  const { prisma } = ctx().db;
  const tenant = await seedTenant(prisma, { slug: 'acme' });
  deploymentId = (await prisma.deployment.create({ data: { tenantId: tenant.id, slug: 'prod', displayName: 'Production', region: 'syd1', state: 'active' } })).id;
  const resource = (kind: string, name: string, o: { deploymentId?: string; createdAt?: string; deletedAt?: string } = {}) =>
    prisma.cloudResource.create({
      data: {
        provider: 'digitalocean',
        providerResourceId: randomUUID(),
        kind,
        name,
        deploymentId: o.deploymentId ?? null,
        createdAt: new Date(o.createdAt ?? '2020-01-01T00:00:00Z'),
        deletedAt: o.deletedAt ? new Date(o.deletedAt) : null,
      },
    });
  await resource('droplet', 'WEB-1', { deploymentId }); // the CSV says web-1: matched ignoring case
  await resource('droplet', 'db-primary');
  await resource('volume', 'DB-PRIMARY', { deploymentId }); // same name, other kind: never matched to a droplet line
  await resource('droplet', 'api', { deploymentId, createdAt: '2019-01-01T00:00:00Z', deletedAt: '2019-06-01T00:00:00Z' });
  await resource('droplet', 'api', { createdAt: '2020-06-15T00:00:00Z' }); // the name reused: alive in July 2020
});
afterAll(async () => {
  await fake.close();
});

/** Registers the invoice at the fake provider and its header in the database (through the sync). */
async function invoice(o: { uuid: string; amount: string; csv: string; period?: string }) {
  addInvoice(fake, { uuid: o.uuid, invoiceId: String(fake.history.length + 1000), period: o.period ?? '2020-07', amount: o.amount, csv: o.csv });
  await syncBillingHistory({ prisma: ctx().db.prisma, boss: null, provider: fake.client(), now });
}

const ingest = (uuid: string) => ingestInvoice({ prisma: ctx().db.prisma, boss: ctx().boss, provider: fake.client(), now }, { invoiceUuid: uuid });
const lines = (uuid: string) => ctx().db.prisma.costLine.findMany({ where: { providerInvoice: { invoiceUuid: uuid } }, orderBy: { rowNumber: 'asc' } });
const header = (uuid: string) => ctx().db.prisma.providerInvoice.findUniqueOrThrow({ where: { invoiceUuid: uuid } });

describe('invoice-ingest: the provider CSV into cost_lines', () => {
  it('stores every line exactly: BOM, quoted commas, thousands separators, negative credits and the GST line', async () => {
    await invoice({ uuid: 'inv-basic', amount: '1377.82', csv: basicCsv });

    const outcome = await ingest('inv-basic');

    expect(outcome).toMatchObject({ status: 'ingested', lineCount: 7, matchedCount: 2, amountMismatch: false, pushQueued: true, checksum: basicChecksum });
    const stored = await lines('inv-basic');
    expect(stored.map((l) => [l.rowNumber, l.kind, l.product, l.description, l.resourceName, l.amountMicros, l.usdRaw, l.hours?.toString() ?? null])).toEqual([
      [1, 'droplet', 'Droplets', 'web-1 (s-1vcpu-1gb)', 'web-1', 5_000_000n, '$5.00', '744'],
      [2, 'droplet', 'Droplets', 'db-primary (s-8vcpu-16gb)', 'db-primary', 1_234_560_000n, '$1,234.56', '1488'],
      [3, 'volume', 'Volumes', 'data, logs (100 GiB)', 'data, logs', 10_000_000n, '$10.00', '744'],
      [4, 'spaces', 'Spaces Subscription', 'Spaces (250 GiB)', 'Spaces', 5_000_000n, '$5.00', null],
      [5, 'other', 'Credits', 'Promo credit', null, -1_000_000n, '-$1.00', null],
      [6, 'other', 'Credits', 'Referral credit', null, -1_000_000n, '$-1.00', null],
      [7, 'tax', 'Taxes', 'GST (10%)', null, 125_260_000n, '$125.26', null],
    ]);
    const web = stored[0]!;
    expect(web).toMatchObject({ projectName: 'Acme, Inc. production', category: 'iaas', groupDescription: '' });
    expect(web.periodStart?.toISOString()).toBe('2020-07-01T00:00:00.000Z');
    expect(web.periodEnd?.toISOString()).toBe('2020-08-01T00:00:00.000Z');
    // The raw row, keyed by header (JSONB orders keys its own way): no BOM glued to "product".
    expect(web.fields).toEqual({
      product: 'Droplets',
      group_description: '',
      description: 'web-1 (s-1vcpu-1gb)',
      hours: '744',
      start: '2020-07-01 00:00:00 +0000',
      end: '2020-08-01 00:00:00 +0000',
      USD: '$5.00',
      project_name: 'Acme, Inc. production',
      category: 'iaas',
    });

    const h = await header('inv-basic');
    expect(h).toMatchObject({ ingestStatus: 'ingested', lineCount: 7, matchedCount: 2, amountMismatch: false, lastError: null, csvChecksum: basicChecksum });
    expect(h.linesTotal?.toString()).toBe('1377.82');
    expect(h.ingestedAt?.toISOString()).toBe(now.toISOString());
  });

  it('stores text exactly whatever it holds: backslashes, tabs, quotes, line breaks, non-ASCII, unknown columns', async () => {
    const awkward = ['C:\\temp\\n (s-1)', 'tab\there (s-1)', 'say "hi" (s-1)', 'two\nlines (s-1)', 'cr\rhere (s-1)', 'café 𝄞 \\N (s-1)', 'plain (s-1)'];
    const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
    const csv = [
      'product,group_description,description,hours,start,end,USD,project_name,category,__proto__,Région',
      ...awkward.map((d, i) => ['Droplets', '\\', quote(d), '1', '2020-07-01 00:00:00 +0000', '2020-08-01 00:00:00 +0000', `$${i}.00`, quote(`p\t${i}`), 'iaas', quote(`{"x":${i}}`), quote('ü\\')].join(',')),
    ].join('\r\n');
    await invoice({ uuid: 'inv-escapes', amount: '21.00', csv });
    const outcome = await ingestInvoice({ prisma: ctx().db.prisma, boss: null, provider: fake.client(), now, chunkLines: 3 }, { invoiceUuid: 'inv-escapes' });
    expect(outcome).toMatchObject({ status: 'ingested', lineCount: awkward.length });
    const stored = await lines('inv-escapes');
    expect(stored.map((l) => [l.description, l.resourceName, l.groupDescription, l.projectName])).toEqual(
      awkward.map((d, i) => [d, resourceNameOf(d), '\\', `p\t${i}`]), // a name with a line break is no `name (size)`
    );
    expect(stored.map((l) => l.fields)).toEqual(
      awkward.map((d, i) => ({
        product: 'Droplets',
        group_description: '\\',
        description: d,
        hours: '1',
        start: '2020-07-01 00:00:00 +0000',
        end: '2020-08-01 00:00:00 +0000',
        USD: `$${i}.00`,
        project_name: `p\t${i}`,
        category: 'iaas',
        ['__proto__']: `{"x":${i}}`,
        Région: 'ü\\',
      })),
    );
  });

  it('matches lines to resources by kind and name ignoring case, copies the deployment, and leaves the rest unmatched', async () => {
    const stored = await lines('inv-basic');
    const resources = await ctx().db.prisma.cloudResource.findMany();
    const byId = new Map(resources.map((r) => [r.id, r]));
    expect(stored.map((l) => (l.cloudResourceId ? [byId.get(l.cloudResourceId)!.kind, byId.get(l.cloudResourceId)!.name, l.deploymentId] : null))).toEqual([
      ['droplet', 'WEB-1', deploymentId],
      ['droplet', 'db-primary', null], // the volume DB-PRIMARY has the name but not the kind
      null, // no volume "data, logs" is known (historic or not synced)
      null,
      null,
      null,
      null, // a tax names no resource
    ]);
  });

  it('queues the vendor-bill push in the ingest transaction, keyed by the invoice', async () => {
    const jobs = await ctx().boss.findJobs(QUEUES.vendorBillPush, { key: 'inv-basic', queued: true });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data).toEqual({ invoiceUuid: 'inv-basic' });
  });

  it('re-ingesting the same CSV is a no-op: no rewrite, the line ids stay', async () => {
    const before = await lines('inv-basic');
    const headerBefore = await header('inv-basic');

    const outcome = await ingest('inv-basic');

    expect(outcome).toMatchObject({ status: 'unchanged', lineCount: 7, matchedCount: 2, pushQueued: false });
    expect((await lines('inv-basic')).map((l) => l.id)).toEqual(before.map((l) => l.id));
    expect((await header('inv-basic')).updatedAt).toEqual(headerBefore.updatedAt);
    expect(await ctx().boss.findJobs(QUEUES.vendorBillPush, { key: 'inv-basic', queued: true })).toHaveLength(1);
  });

  it('a changed CSV replaces the whole set', async () => {
    const before = await lines('inv-basic');
    const changed = csvOf([
      csvRow({ description: 'web-1 (s-1vcpu-1gb)', usd: '$5.00', period: '2020-07' }),
      csvRow({ description: 'web-2 (s-1vcpu-1gb)', usd: '$1,372.82', period: '2020-07' }),
    ]);
    fake.csvs.set('inv-basic', changed);

    const outcome = await ingest('inv-basic');

    expect(outcome).toMatchObject({ status: 'ingested', lineCount: 2, matchedCount: 1, amountMismatch: false });
    const after = await lines('inv-basic');
    expect(after.map((l) => l.description)).toEqual(['web-1 (s-1vcpu-1gb)', 'web-2 (s-1vcpu-1gb)']);
    expect(after.some((l) => before.some((b) => b.id === l.id))).toBe(false);
    expect(await ctx().db.prisma.costLine.count({ where: { providerInvoice: { invoiceUuid: 'inv-basic' } } })).toBe(2);
    expect(await header('inv-basic')).toMatchObject({ lineCount: 2, matchedCount: 1, csvChecksum: csvChecksum(changed) });
  });

  it('a bad CSV changes no line: the header records the row and reason, and the ingest throws so the job retries', async () => {
    const before = await lines('inv-basic');
    const checksum = (await header('inv-basic')).csvChecksum;
    fake.csvs.set('inv-basic', malformedCsv);

    const error = await ingest('inv-basic').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvoiceCsvError);
    expect(error).toMatchObject({ rowNumber: 3 });
    const h = await header('inv-basic');
    expect(h.ingestStatus).toBe('failed');
    expect(h.lastError).toBe('invoice CSV row 3: unparsable USD amount "five dollars"');
    expect(h).toMatchObject({ csvChecksum: checksum, lineCount: 2 });
    expect((await lines('inv-basic')).map((l) => l.id)).toEqual(before.map((l) => l.id));

    fake.csvs.set('inv-basic', 'product,group_description,description,hours,start,end,project_name,category\nDroplets,,x,1,,,P,iaas\n');
    await expect(ingest('inv-basic')).rejects.toThrow(InvoiceCsvError);
    expect((await header('inv-basic')).lastError).toBe('invoice CSV header: missing required column(s): USD');
    expect((await lines('inv-basic')).map((l) => l.id)).toEqual(before.map((l) => l.id));
  });

  it('the stored CSV served again after a failure marks the invoice ingested without rewriting a line', async () => {
    const before = await lines('inv-basic');
    fake.csvs.set('inv-basic', csvOf([csvRow({ description: 'web-1 (s-1vcpu-1gb)', usd: '$5.00', period: '2020-07' }), csvRow({ description: 'web-2 (s-1vcpu-1gb)', usd: '$1,372.82', period: '2020-07' })]));
    expect(await ingest('inv-basic')).toMatchObject({ status: 'unchanged' });
    expect(await header('inv-basic')).toMatchObject({ ingestStatus: 'ingested', lastError: null });
    expect((await lines('inv-basic')).map((l) => l.id)).toEqual(before.map((l) => l.id));
  });

  it('refuses hours finer than the column keeps, with the row number', async () => {
    await invoice({ uuid: 'inv-hours', amount: '1.00', csv: csvOf([csvRow({ description: 'a (s)', usd: '$1.00', hours: '1.0000000000001' })]) });
    await expect(ingest('inv-hours')).rejects.toMatchObject({ rowNumber: 1 });
    expect((await header('inv-hours')).lastError).toContain('row 1: hours "1.0000000000001"');
  });

  it('stores but flags a CSV whose lines do not sum to the invoice amount; the sync clears the flag when the amount agrees', async () => {
    await invoice({ uuid: 'inv-mismatch', amount: '10.00', csv: csvOf([csvRow({ description: 'web-1 (s)', usd: '$9.99' })]) });
    expect(await ingest('inv-mismatch')).toMatchObject({ status: 'ingested', amountMismatch: true, lineCount: 1 });
    const h = await header('inv-mismatch');
    expect(h.amountMismatch).toBe(true);
    expect(h.linesTotal?.toString()).toBe('9.99');

    fake.history.find((e) => e.invoice_uuid === 'inv-mismatch')!.amount = '9.99';
    await syncBillingHistory({ prisma: ctx().db.prisma, boss: null, provider: fake.client(), now });
    expect((await header('inv-mismatch')).amountMismatch).toBe(false);
  });

  it('keeps fractions of a cent exactly and sums them without a float', async () => {
    await invoice({ uuid: 'inv-thirds', amount: '0.9999', csv: csvOf(['$0.3333', '$0.3333', '$0.3333'].map((usd, i) => csvRow({ description: `t${i} (s)`, usd }))) });
    expect(await ingest('inv-thirds')).toMatchObject({ amountMismatch: false });
    expect((await lines('inv-thirds')).map((l) => l.amountMicros)).toEqual([333_300n, 333_300n, 333_300n]);
    expect((await header('inv-thirds')).linesTotal?.toString()).toBe('0.9999');
  });

  it('matches a reused name to the resource alive during the line period', async () => {
    await invoice({ uuid: 'inv-api', amount: '5.00', csv: csvOf([csvRow({ description: 'API (s-1vcpu-1gb)', usd: '$5.00', period: '2020-07' })]) });
    await ingest('inv-api');
    const [line] = await lines('inv-api');
    const resource = await ctx().db.prisma.cloudResource.findUniqueOrThrow({ where: { id: line!.cloudResourceId! } });
    expect(resource.createdAt.toISOString()).toBe('2020-06-15T00:00:00.000Z');
    expect(line!.deploymentId).toBeNull(); // copied from the resource matched, not from the deleted namesake
  });

  it('stores in chunks, matching each chunk as it goes (a name seen in an earlier chunk, another case of it)', async () => {
    const csv = csvOf(['web-1', 'nobody', 'db-primary', 'WEB-1', 'web-2', 'web-1'].map((name, i) => csvRow({ description: `${name} (s)`, usd: `$${i}.00`, period: '2020-07' })));
    await invoice({ uuid: 'inv-chunks', amount: '15.00', csv });
    const outcome = await ingestInvoice({ prisma: ctx().db.prisma, boss: null, provider: fake.client(), now, chunkLines: 2 }, { invoiceUuid: 'inv-chunks' });
    expect(outcome).toMatchObject({ status: 'ingested', lineCount: 6, matchedCount: 4 });
    const stored = await lines('inv-chunks');
    expect(stored.map((l) => [l.rowNumber, l.cloudResourceId !== null, l.deploymentId === deploymentId])).toEqual([
      [1, true, true],
      [2, false, false],
      [3, true, false],
      [4, true, true],
      [5, false, false],
      [6, true, true],
    ]);
    expect(new Set(stored.map((l) => l.id)).size).toBe(6);
    expect(await header('inv-chunks')).toMatchObject({ lineCount: 6, matchedCount: 4 });
  });

  it('two ingests of one invoice at once store its lines once', async () => {
    await invoice({ uuid: 'inv-race', amount: '3.00', csv: csvOf(['$1.00', '$1.00', '$1.00'].map((usd, i) => csvRow({ description: `r${i} (s)`, usd }))) });
    const outcomes = await Promise.all([ingest('inv-race'), ingest('inv-race')]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['ingested', 'unchanged']);
    expect(await ctx().db.prisma.costLine.count({ where: { providerInvoice: { invoiceUuid: 'inv-race' } } })).toBe(3);
  });

  it('a CSV that cannot be fetched leaves the status as it was, with the error recorded', async () => {
    await invoice({ uuid: 'inv-missing', amount: '1.00', csv: '' });
    fake.csvs.delete('inv-missing');
    await expect(ingest('inv-missing')).rejects.toBeInstanceOf(ProviderApiError);
    expect(await header('inv-missing')).toMatchObject({ ingestStatus: 'pending', lastError: expect.stringContaining('fetching the CSV failed') });
  });

  it('a connection dropped in the middle of the CSV changes no line: a network error, recorded, the status kept', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => csvRow({ description: `web-${i} (s)`, usd: '$1.00', period: '2020-07' }));
    await invoice({ uuid: 'inv-dropped', amount: '2.00', csv: csvOf(rows.slice(0, 2)) });
    await ingest('inv-dropped');
    const before = await lines('inv-dropped');
    // A provider that sends the header and part of a long CSV, then closes the connection.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '99999999' });
      res.write(csvOf(rows).slice(0, 300_000), () => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const provider = createProviderClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'dropping', maxRetries: 0 });
    try {
      const error = await ingestInvoice({ prisma: ctx().db.prisma, boss: null, provider, now }, { invoiceUuid: 'inv-dropped' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderApiError);
      expect(error).toMatchObject({ failure: 'network' });
    } finally {
      await provider.close();
      server.close();
    }
    expect((await lines('inv-dropped')).map((l) => l.id)).toEqual(before.map((l) => l.id));
    expect(await header('inv-dropped')).toMatchObject({ ingestStatus: 'ingested', lineCount: 2, lastError: expect.stringContaining('fetching the CSV failed') });
  });

  it('the job handler parses its payload and calls the use case', async () => {
    const { db, boss, config } = ctx();
    const deps = { prisma: db.prisma, boss, config, logger: pino({ level: 'silent' }), now: () => now, provider: fake.client() };
    await expect(handleInvoiceIngest(deps, { data: { invoiceUuid: 'inv-thirds' } })).resolves.toMatchObject({ status: 'unchanged', lines: 3 });
    await expect(handleInvoiceIngest(deps, { data: {} })).rejects.toThrow(/invoiceUuid/);
    await expect(handleInvoiceIngest({ ...deps, provider: undefined }, { data: { invoiceUuid: 'inv-thirds' } })).resolves.toEqual({ skipped: 'provider_not_configured' });
  });
});
