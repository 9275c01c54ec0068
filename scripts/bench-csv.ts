// npm run bench:csv [-- --lines 100000] [--keep]
// Generates a provider invoice CSV (not committed: .bench/ is git-ignored), serves it from a
// local HTTP server standing in for the provider, and runs the real ingest against the database
// (embedded, or DATABASE_URL): parse, replace + match, a no-op re-ingest and a changed-CSV
// replace. The bench rows (invoice uuid and resource ids prefixed "bench-") are removed at the
// end unless --keep.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { ingestInvoice, type IngestInvoiceOutcome } from '../src/costs/ingest-invoice.ts';
import { parseInvoiceCsv } from '../src/costs/invoice-csv.ts';
import { createProviderClient } from '../src/costs/provider-client.ts';
import { syncBillingHistory } from '../src/costs/sync-billing-history.ts';
import { microsToUsd } from '../src/costs/usd.ts';
import { startRuntime } from '../src/platform/runtime.ts';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '100000' }, keep: { type: 'boolean', default: false } } });
if (!/^\d+$/.test(values.lines) || Number.parseInt(values.lines, 10) < 1) {
  console.error('--lines must be a positive integer');
  process.exit(2);
}
const LINES = Number.parseInt(values.lines, 10);
const UUID = 'bench-invoice-2026-10';
const DROPLETS = 2_000;
const TOKEN = 'bench-token';

// ---------------------------------------------------------------- the CSV

const HEADER = 'product,group_description,description,hours,start,end,USD,project_name,category,region';
const START = '2026-10-01 00:00:00 +0000';
const END = '2026-11-01 00:00:00 +0000';

/** Deterministic rows with the provider's quirks: quoted commas, thousands separators, credits, fractions of a cent, a GST line. */
function generateCsv(lines: number, variant: number): { text: string; totalMicros: bigint } {
  const rows: string[] = ['\uFEFF' + HEADER];
  let net = 0n;
  for (let i = 1; i < lines; i++) {
    let micros: bigint;
    let row: string;
    if (i % 50 === 0) {
      micros = -BigInt((i % 7) + 1) * 1_000_000n;
      row = `Credits,,Promo credit ${i},,${START},${END},-$${microsToUsd(-micros)},"Bench, Inc.",credit,`;
    } else if (i % 10 === 0) {
      micros = BigInt(((i * 7_919) % 9_000_000) + 1_000_000) * 1_000n; // $1,000.00 and up: thousands separators
      row = `Volumes,,"bench-vol-${i % 500}, data (100 GiB)",744,${START},${END},"$${withThousands(microsToUsd(micros))}","Bench, Inc.",iaas,syd1`;
    } else {
      micros = BigInt((i * 104_729 + variant) % 50_000_000) + 1n; // fractions of a cent kept
      row = `Droplets,,BENCH-WEB-${i % DROPLETS} (s-1vcpu-1gb),${i % 744}.5,${START},${END},$${microsToUsd(micros)},Default,iaas,syd1`;
    }
    net += micros;
    rows.push(row);
  }
  const tax = net / 10n;
  rows.push(`Taxes,,GST (10%),,${START},${END},$${microsToUsd(tax)},,tax,`);
  return { text: rows.join('\r\n') + '\r\n', totalMicros: net + tax };
}

function withThousands(usd: string): string {
  const [whole, fraction] = usd.split('.') as [string, string];
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}

// ---------------------------------------------------------------- the stand-in provider

async function startProvider(state: { csv: string; amount: string }): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    if (url.pathname === '/v2/customers/my/billing_history') {
      return json({
        billing_history: [{ description: 'Invoice for October 2026', amount: state.amount, invoice_id: '9001', invoice_uuid: UUID, date: '2026-11-01T08:00:00Z', type: 'Invoice' }],
        links: {},
        meta: { total: 1 },
      });
    }
    if (url.pathname === `/v2/customers/my/invoices/${UUID}/summary`) return json({ invoice_uuid: UUID, invoice_id: '9001', billing_period: '2026-10', amount: state.amount });
    if (url.pathname === `/v2/customers/my/invoices/${UUID}/csv`) {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      res.end(state.csv);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

// ---------------------------------------------------------------- the run

const generatedAt = performance.now();
const first = generateCsv(LINES, 0);
const changed = generateCsv(LINES, 1);
await mkdir('.bench', { recursive: true });
const file = `.bench/invoice-${LINES}.csv`;
await writeFile(file, first.text);
const generateMs = performance.now() - generatedAt;

const runtime = await startRuntime({ handleSignals: true });
const state = { csv: first.text, amount: microsToUsd(first.totalMicros) };
const provider = await startProvider(state);
const client = createProviderClient({ baseUrl: provider.url, token: TOKEN });
const prisma = runtime.prisma;

async function cleanUp(): Promise<void> {
  await prisma.$executeRaw`DELETE FROM provider_invoices WHERE invoice_uuid = ${UUID}`; // cascades to its lines
  await prisma.$executeRaw`DELETE FROM cloud_resources WHERE provider = 'digitalocean' AND provider_resource_id LIKE 'bench-%'`;
}

try {
  await cleanUp();
  // Half the droplets the CSV names are known resources (matched, case-insensitively); the rest and the volumes are not.
  await prisma.$executeRaw`
    INSERT INTO cloud_resources (provider, provider_resource_id, kind, name, size, created_at)
    SELECT 'digitalocean', 'bench-' || g, 'droplet', 'bench-web-' || g, 's-1vcpu-1gb', '2026-01-01T00:00:00Z'
      FROM generate_series(0, ${DROPLETS / 2 - 1}::int) g`;
  await syncBillingHistory({ prisma, boss: null, provider: client, now: new Date() });

  const parseStarted = performance.now();
  const parsed = parseInvoiceCsv(first.text);
  const parseMs = performance.now() - parseStarted;

  const ingest = (): Promise<IngestInvoiceOutcome> => ingestInvoice({ prisma, boss: null, provider: client, now: new Date() }, { invoiceUuid: UUID });
  const fresh = await ingest();
  const noop = await ingest();
  state.csv = changed.text;
  state.amount = microsToUsd(changed.totalMicros);
  await syncBillingHistory({ prisma, boss: null, provider: client, now: new Date() });
  const replaced = await ingest();

  const ms = (n: number) => n.toFixed(0); // timings, not money
  const perSecond = (lines: number, elapsedMs: number) => Math.round((lines * 1000) / elapsedMs).toLocaleString('en-US');
  const table = new Table({ head: ['step', 'ms', 'lines/s', 'notes'], colAligns: ['left', 'right', 'right', 'left'] });
  table.push(['generate CSV (not timed as ingest)', ms(generateMs), '', `${file}, ${(first.text.length / 1024 / 1024).toFixed(1)} MiB`]);
  table.push(['parse (parseInvoiceCsv alone)', ms(parseMs), perSecond(parsed.length, parseMs), `${parsed.length.toLocaleString('en-US')} lines`]);
  for (const [label, o] of [
    ['ingest into an empty invoice', fresh],
    ['ingest of a changed CSV (replace)', replaced],
  ] as const) {
    table.push([`${label}: total`, ms(o.timings.totalMs), perSecond(o.lineCount, o.timings.totalMs), `${o.status}, ${o.lineCount} lines, ${o.matchedCount} matched, mismatch ${o.amountMismatch}`]);
    table.push(['  fetch over HTTP', ms(o.timings.fetchMs), '', '']);
    table.push(['  parse', ms(o.timings.parseMs), perSecond(o.lineCount, o.timings.parseMs), '']);
    table.push(['  replace + match (one transaction)', ms(o.timings.storeMs), perSecond(o.lineCount, o.timings.storeMs), 'delete, chunked INSERT ... FROM unnest joined to cloud_resources, header']);
  }
  table.push(['re-ingest of the same CSV (no-op)', ms(noop.timings.totalMs), '', `${noop.status}: fetch ${ms(noop.timings.fetchMs)} ms + checksum, no write`]);
  console.log(`invoice CSV ingest, ${LINES.toLocaleString('en-US')} lines, database ${new URL(runtime.databaseUrl).host}${new URL(runtime.databaseUrl).pathname}`);
  console.log(table.toString());
  if (!values.keep) await cleanUp();
  await client.close();
  provider.server.close();
  await runtime.shutdown(0);
} catch (error) {
  console.error(error);
  await client.close();
  provider.server.close();
  await runtime.shutdown(1);
}
