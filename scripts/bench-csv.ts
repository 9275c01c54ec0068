// npm run bench:csv [-- --lines 100000] [--keep]
// Generates a provider invoice CSV (not committed: .bench/ is git-ignored), serves it from a
// local HTTP server standing in for the provider (streamed from the file, so the bench process
// does not hold it), and runs the real ingest against a fresh database (on the embedded server or DATABASE_URL's):
// an ingest into an empty invoice, a no-op re-ingest and a changed-CSV replace. Beside it, the
// baseline: COPY of the same file into a scratch table (the floor for loading these rows), and
// the ratio. Memory: RSS sampled during each ingest, above the process's idle RSS just before it.
// CPU: this process's and the database server's (when it runs on this machine) during each ingest.
// Prints a table, then one JSON line. The bench rows (invoice uuid and resource ids prefixed
// "bench-") are removed at the end unless --keep.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { ingestInvoice, type IngestInvoiceOutcome } from '../src/costs/ingest-invoice.ts';
import { finished, pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { pgPoolOf } from '../src/platform/database.ts';
import { createProviderClient } from '../src/costs/provider-client.ts';
import { syncBillingHistory } from '../src/costs/sync-billing-history.ts';
import { microsToUsd } from '../src/costs/usd.ts';
import { backendCpu, freshBenchDatabase, sampleRss } from './lib/bench.ts';

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

/**
 * Deterministic rows with the provider's quirks: quoted commas, thousands separators, credits,
 * fractions of a cent, a GST line. Written to `file` as generated, so this process never holds it.
 */
async function generateCsv(file: string, lines: number, variant: number): Promise<{ totalMicros: bigint; bytes: number }> {
  const out = createWriteStream(file);
  let rows: string[] = ['\uFEFF' + HEADER];
  let bytes = 0;
  const flush = async () => {
    const text = rows.join('\r\n') + '\r\n';
    bytes += Buffer.byteLength(text);
    rows = [];
    if (!out.write(text)) await once(out, 'drain');
  };
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
    if (rows.length >= 10_000) await flush();
  }
  const tax = net / 10n;
  rows.push(`Taxes,,GST (10%),,${START},${END},$${microsToUsd(tax)},,tax,`);
  await flush();
  out.end();
  await finished(out);
  return { totalMicros: net + tax, bytes };
}

function withThousands(usd: string): string {
  const [whole, fraction] = usd.split('.') as [string, string];
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}

// ---------------------------------------------------------------- the stand-in provider

async function startProvider(state: { file: string; amount: string }): Promise<{ url: string; server: Server }> {
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
      createReadStream(state.file).pipe(res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

// ---------------------------------------------------------------- memory

/** The peak RSS above the RSS just before `fn` runs (sampled every 10 ms), and the CPU time `fn` took, here and in the database. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; idleMb: number; peakAboveIdleMb: number; nodeCpuMs: number; dbCpuMs: number | null }> {
  (globalThis as { gc?: () => void }).gc?.();
  const idle = process.memoryUsage.rss();
  const rss = sampleRss();
  const dbCpu = await backendCpu(db);
  const cpu0 = process.cpuUsage();
  try {
    const result = await fn();
    const cpu = process.cpuUsage(cpu0);
    const dbCpuMs = await dbCpu.spentMs();
    return { result, idleMb: idle / 2 ** 20, peakAboveIdleMb: (rss.stop() - idle) / 2 ** 20, nodeCpuMs: (cpu.user + cpu.system) / 1000, dbCpuMs };
  } finally {
    rss.stop();
  }
}

// ---------------------------------------------------------------- the run

const generatedAt = performance.now();
await mkdir('.bench', { recursive: true });
const firstFile = `.bench/invoice-${LINES}.csv`;
const changedFile = `.bench/invoice-${LINES}-changed.csv`;
const amounts = await (async () => {
  const first = await generateCsv(firstFile, LINES, 0);
  const changed = await generateCsv(changedFile, LINES, 1);
  return { first: microsToUsd(first.totalMicros), changed: microsToUsd(changed.totalMicros), mib: first.bytes / 2 ** 20 };
})();
const generateMs = performance.now() - generatedAt;

// A database of its own (created, migrated, dropped at the end unless --keep): never the one you work in.
const db = await freshBenchDatabase('invoicing_bench_csv');
const state = { file: firstFile, amount: amounts.first };
const provider = await startProvider(state);
const client = createProviderClient({ baseUrl: provider.url, token: TOKEN });
const prisma = db.prisma;

async function cleanUp(): Promise<void> {
  await prisma.$executeRaw`DELETE FROM provider_invoices WHERE invoice_uuid = ${UUID}`; // cascades to its lines
  await prisma.$executeRaw`DELETE FROM cloud_resources WHERE provider = 'digitalocean' AND provider_resource_id LIKE 'bench-%'`;
}

/** The floor: COPY of the same file (all its columns as text) into a scratch table, in one transaction. */
async function copyBaseline(file: string): Promise<{ ms: number; rows: number }> {
  const pg = await pgPoolOf(prisma).connect();
  try {
    await pg.query('BEGIN');
    await pg.query(`CREATE TEMP TABLE bench_csv_copy (product text, group_description text, description text, hours text, start text,
                      "end" text, usd text, project_name text, category text, region text) ON COMMIT DROP`);
    const started = performance.now();
    const copy = pg.query(copyFrom(`COPY bench_csv_copy FROM STDIN (FORMAT csv, HEADER true)`));
    await pipeline(createReadStream(file), copy);
    const ms = performance.now() - started;
    await pg.query('ROLLBACK');
    return { ms, rows: copy.rowCount };
  } finally {
    pg.release();
  }
}

try {
  await cleanUp();
  // Half the droplets the CSV names are known resources (matched, case-insensitively); the rest and the volumes are not.
  await prisma.$executeRaw`
    INSERT INTO cloud_resources (provider, provider_resource_id, kind, name, size, created_at)
    SELECT 'digitalocean', 'bench-' || g, 'droplet', 'bench-web-' || g, 's-1vcpu-1gb', '2026-01-01T00:00:00Z'
      FROM generate_series(0, ${DROPLETS / 2 - 1}::int) g`;
  await syncBillingHistory({ prisma, boss: null, provider: client, now: new Date() });

  const baseline = await copyBaseline(firstFile);
  const ingest = (): Promise<IngestInvoiceOutcome> => ingestInvoice({ prisma, boss: null, provider: client, now: new Date() }, { invoiceUuid: UUID });
  const fresh = await withPeakRss(ingest);
  const noop = await withPeakRss(ingest);
  state.file = changedFile;
  state.amount = amounts.changed;
  await syncBillingHistory({ prisma, boss: null, provider: client, now: new Date() });
  const replaced = await withPeakRss(ingest);

  const ms = (n: number) => n.toFixed(0); // timings, not money
  const mb = (n: number) => n.toFixed(0);
  const perSecond = (lines: number, elapsedMs: number) => Math.round((lines * 1000) / elapsedMs).toLocaleString('en-US');
  const table = new Table({ head: ['step', 'ms', 'lines/s', 'MB above idle', 'notes'], colAligns: ['left', 'right', 'right', 'right', 'left'] });
  table.push(['generate CSV (not timed as ingest)', ms(generateMs), '', '', `${firstFile}, ${amounts.mib.toFixed(1)} MiB`]);
  table.push(['baseline: COPY of the file into a scratch table', ms(baseline.ms), perSecond(baseline.rows, baseline.ms), '', `${baseline.rows} rows, text columns`]);
  for (const [label, o] of [
    ['ingest into an empty invoice', fresh],
    ['ingest of a changed CSV (replace)', replaced],
  ] as const) {
    const r = o.result;
    table.push([`${label}: total`, ms(r.timings.totalMs), perSecond(r.lineCount, r.timings.totalMs), mb(o.peakAboveIdleMb), `${r.status}, ${r.lineCount} lines, ${r.matchedCount} matched, mismatch ${r.amountMismatch}`]);
    table.push(['  checksum pass, then delete + fetch + hash + parse + match + COPY (streamed)', ms(r.timings.loadMs), perSecond(r.lineCount, r.timings.loadMs), '', 'one matching query and one COPY into cost_lines per 10,000 lines']);
    table.push(['  header, commit', ms(r.timings.storeMs), '', '', 'counts, checksum, total; same transaction']);
  }
  table.push(['re-ingest of the same CSV (no-op)', ms(noop.result.timings.totalMs), '', mb(noop.peakAboveIdleMb), `${noop.result.status}: streamed and hashed only, no parse, no write`]);
  console.log(`invoice CSV ingest, ${LINES.toLocaleString('en-US')} lines, database ${db.name}`);
  console.log(table.toString());
  const seconds = (n: number) => Number((n / 1000).toFixed(3));
  console.log(
    JSON.stringify({
      lines: LINES,
      ingest_seconds: seconds(fresh.result.timings.totalMs),
      replace_seconds: seconds(replaced.result.timings.totalMs),
      noop_seconds: seconds(noop.result.timings.totalMs),
      baseline_copy_seconds: seconds(baseline.ms),
      ratio: Number((fresh.result.timings.totalMs / baseline.ms).toFixed(2)),
      idle_rss_mb: Math.round(fresh.idleMb),
      peak_rss_above_idle_mb: Math.round(Math.max(fresh.peakAboveIdleMb, replaced.peakAboveIdleMb, noop.peakAboveIdleMb)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      ingest_node_cpu_seconds: seconds(fresh.nodeCpuMs),
      ingest_db_cpu_seconds: fresh.dbCpuMs === null ? null : seconds(fresh.dbCpuMs),
      replace_node_cpu_seconds: seconds(replaced.nodeCpuMs),
      replace_db_cpu_seconds: replaced.dbCpuMs === null ? null : seconds(replaced.dbCpuMs),
    }),
  );
  if (!values.keep) await cleanUp();
  await client.close();
  provider.server.close();
  await db.close({ keep: values.keep });
} catch (error) {
  console.error(error);
  await client.close();
  provider.server.close();
  await db.close({ keep: values.keep });
  process.exitCode = 1;
}
