// The demo's margin part and the document/report CLIs as an operator runs them (real
// subprocesses against the test database).
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import { parse } from 'csv-parse/sync';
import { useTestDatabase } from '../support/db.ts';
import { seedPilotScenario } from '../../scripts/lib/pilot-scenario.ts';
import { demoMargin } from '../../scripts/lib/demo-margin.ts';
import { createRun, executeRun } from '../../src/invoicing/month-close-runs.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { loadConfig } from '../../src/platform/config.ts';

const db = useTestDatabase();
let dir: string;

function cli(script: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url)), ...args], {
    env: { ...process.env, DATABASE_URL: db().url, LOG_LEVEL: 'silent', NODE_ENV: 'test' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'documents-'));
  await seedPilotScenario(db().prisma);
  const runId = await createRun(db().prisma, { period: parsePeriod('2026-04'), trigger: 'cli', requestedBy: 'test' });
  await executeRun({ prisma: db().prisma, now: new Date('2026-05-02T00:00:00Z') }, runId);
});

describe('demo: revenue, cost and margin of the pilot', () => {
  it('ingests the April provider invoice, records the rate, writes the PDF and prints the margin; a re-run changes nothing', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db().url });
    const text = await demoMargin(db().prisma, { config, outDir: dir });
    expect(text).toContain('ingested, 6 lines, 3 matched');
    expect(text).toContain('1 USD = 1.5432 AUD (created)');
    // Independent: revenue 50.00 + 7.50 + 6.72 = 64.22; cost 3 × 6.00 USD × 1.5432 = 27.7776 → 27.78; margin 36.4424 → 36.44.
    expect(text).toMatch(/│ tenant\s+│ pilot\s+│\s+│\s+50\.00 │\s+7\.50 │\s+6\.72 │\s+64\.22 │\s+27\.78 │\s+27\.78 │\s+36\.44 │\s+56\.7 │/);
    // Overhead: (6.00 − 5.00) × 1.5432 = 1.5432 → 1.54 (the GST line is not a cost).
    expect(text).toContain('platform overhead (costs owned by no tenant, e.g. build-runner and the credit): 1.54 AUD');
    const pdfPath = /invoice PDF \(draft\): (.+\.pdf)/.exec(text)![1]!;
    const pdf = await getDocumentProxy(new Uint8Array(await readFile(pdfPath)));
    const pdfText = (await extractText(pdf, { mergePages: true })).text.replace(/\s+/g, ' ');
    expect(pdfText).toContain('Tax invoice');
    expect(pdfText).toContain('Pilot Pty Ltd');
    expect(pdfText).toContain('Total including GST (AUD) 70.64');

    const again = await demoMargin(db().prisma, { config, outDir: dir });
    expect(again).toContain('unchanged, 6 lines, 3 matched');
    expect(again).toContain('(unchanged)');
    expect(await db().prisma.costLine.count()).toBe(6);
  });
});

describe('CLIs', () => {
  it('invoices:document writes the PDF or the HTML; bad arguments exit 2', async () => {
    const invoice = await db().prisma.tenantInvoice.findFirstOrThrow({ where: { tenant: { slug: 'pilot' } } });
    const pdf = cli('invoices-document.ts', '--id', invoice.id, '--out', join(dir, 'a.pdf'));
    expect(pdf.code).toBe(0);
    expect(pdf.out).toContain(`written to ${join(dir, 'a.pdf')}`);
    expect((await readFile(join(dir, 'a.pdf'))).subarray(0, 5).toString()).toBe('%PDF-');
    const html = cli('invoices-document.ts', '--id', invoice.id, '--html', '--out', join(dir, 'a.html'));
    expect(html.code).toBe(0);
    expect(await readFile(join(dir, 'a.html'), 'utf8')).toContain('<h1 id="title">Tax invoice</h1>');
    expect(cli('invoices-document.ts').code).toBe(2);
    const missing = cli('invoices-document.ts', '--id', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('invoice not found');
  }, 180_000); // five subprocesses, each starting Node and Prisma

  it('report:margin prints the table and writes the CSV; report:reconciliation prints the split and the leaks', async () => {
    const margin = cli('report-margin.ts', '--period', '2026-04', '--csv', join(dir, 'm.csv'));
    expect(margin.code).toBe(0);
    expect(margin.out).toContain('Margin per tenant, 2026-04, in AUD');
    const rows = parse(await readFile(join(dir, 'm.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.find((r) => r.row === 'tenant')).toMatchObject({ tenant: 'pilot', revenue: '64.22', cost: '27.78', margin: '36.44' });
    const reconciliation = cli('report-reconciliation.ts', '--period', '2026-04');
    expect(reconciliation.code).toBe(0);
    expect(reconciliation.out).toMatch(/DEMO-2026-04.+20\.90.+18\.00.+6\.00.+1\.90.+-5\.00.+20\.90.+0\.00.+yes/);
    expect(reconciliation.out).toMatch(/unmatched.+build-runner.+6\.00/);
    expect(cli('report-margin.ts', '--period', '2026-4').code).toBe(2);
    const noRate = cli('report-margin.ts', '--period', '2026-04', '--currency', 'NZD');
    expect(noRate.code).toBe(1);
    expect(noRate.out).toContain('no exchange rate AUD→NZD, USD→NZD for 2026-04');
  }, 180_000);
});
