// npm run costs:sync as a real process against a test database, the fake provider and the fake
// finance service: the summary table, the exit status, and a second run that has nothing to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestDatabase } from '../support/db.ts';
import { addInvoice, csvOf, csvRow, FINANCE_SECRET, PROVIDER_TOKEN, startFakeFinance, startFakeProvider, type FakeFinance, type FakeProvider } from './fakes.ts';

const db = useTestDatabase();
let provider: FakeProvider;
let finance: FakeFinance;
const script = fileURLToPath(new URL('../../scripts/costs-sync.ts', import.meta.url));

function run(args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          LOG_LEVEL: 'silent',
          DATABASE_URL: db().url,
          PROVIDER_API_URL: provider.url,
          PROVIDER_TOKEN,
          FINANCE_URL: finance.url,
          FINANCE_JWT_SECRET: FINANCE_SECRET,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  provider = await startFakeProvider();
  finance = await startFakeFinance();
  provider.perPage = 1;
  addInvoice(provider, { uuid: 'cli-may', invoiceId: '1', period: '2024-05', amount: '2.00', csv: csvOf([csvRow({ description: 'a (s)', usd: '$2.00' })]) });
  addInvoice(provider, { uuid: 'cli-june', invoiceId: '2', period: '2024-06', amount: '3.00', csv: csvOf([csvRow({ description: 'b (s)', usd: '$1.00', period: '2024-06' }), csvRow({ description: 'c (s)', usd: '$2.00', period: '2024-06' })]) });
  addInvoice(provider, { uuid: 'cli-july', invoiceId: '3', period: '2024-07', amount: '1.00', csv: csvOf([csvRow({ description: 'd (s)', usd: 'n/a', period: '2024-07' })]) });
});
afterAll(async () => {
  await provider.close();
  await finance.close();
});

describe('npm run costs:sync', () => {
  it('syncs, ingests and pushes every new invoice, prints the summary and exits 1 when an ingest failed', async () => {
    const { code, stdout, stderr } = await run();
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toMatch(/invoices seen.*new.*ingested.*unchanged.*failed.*lines.*matched/s);
    // seen 3, new 3, ingested 2, unchanged 0, failed 1, lines 3, matched 0, mismatch 0, pushed 2, skipped 0, push failed 0
    expect(stdout.replace(/\s+/g, ' ')).toContain('│ 3 │ 3 │ 2 │ 0 │ 1 │ 3 │ 0 │ 0 │ 2 │ 0 │ 0 │');
    expect(stdout).toContain('FAILED ingest cli-july: invoice CSV row 1: unparsable USD amount "n/a"');
    expect(finance.accepted.map((a) => a.body.external_id)).toEqual(['cli-may', 'cli-june']);
    const headers = await db().prisma.providerInvoice.findMany({ orderBy: { period: 'asc' } });
    expect(headers.map((h) => [h.invoiceUuid, h.ingestStatus, h.pushStatus])).toEqual([
      ['cli-may', 'ingested', 'pushed'],
      ['cli-june', 'ingested', 'pushed'],
      ['cli-july', 'failed', 'pending'],
    ]);
  });

  it('once the bad CSV is fixed, a second run ingests only it and exits 0; --all re-reads everything as no-ops', async () => {
    provider.csvs.set('cli-july', csvOf([csvRow({ description: 'd (s)', usd: '$1.00', period: '2024-07' })]));
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.stdout.replace(/\s+/g, ' ')).toContain('│ 3 │ 0 │ 1 │ 0 │ 0 │ 1 │ 0 │ 0 │ 1 │ 0 │ 0 │');

    const all = await run(['--all']);
    expect(all.code).toBe(0);
    expect(all.stdout.replace(/\s+/g, ' ')).toContain('│ 3 │ 0 │ 0 │ 3 │ 0 │ 0 │ 0 │ 0 │ 0 │ 0 │ 0 │');
    expect(finance.accepted).toHaveLength(3);
  });
});
