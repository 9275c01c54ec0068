// npm run bench:export [-- --invoices N] — generates a period of N issued invoices (default
// 10,000; three lines each) in the configured database, then measures time and peak heap of:
//   streamed: GET /api/v1/invoices/export over real HTTP (keyset batches → csv-stringify → reply),
//             the response consumed chunk by chunk;
//   baseline: one hand-written SQL statement loading every line row, then the whole CSV built as
//             one string — what the export would cost without streaming.
// Prints both and the ratio, then deletes its `bench-export-` rows.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { fetch } from 'undici';
import Table from 'cli-table3';
import { buildApp } from '../src/http/app.ts';
import { allRoutes } from '../src/http/routes.ts';
import { signAccessToken } from '../src/auth/tokens.ts';
import { parsePeriod } from '../src/invoicing/period.ts';
import { attachBoss, startRuntime } from '../src/platform/runtime.ts';
import { deleteInvoicePeriod, generateInvoicePeriod } from './lib/export-fixture.ts';

const { values } = parseArgs({ options: { invoices: { type: 'string', default: '10000' } } });
const count = Number.parseInt(values.invoices, 10);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/**
 * Runs fn twice: once for its time, once while a sampler forces a full GC every 20 ms and reads
 * the heap, so the peak is the live set (what the variant really holds), not garbage V8 has not
 * collected yet. Without --expose-gc the second figure is the raw heap peak.
 */
async function measure(fn: () => Promise<number>): Promise<{ ms: number; peakMiB: number; bytes: number }> {
  gc();
  const t0 = performance.now();
  const bytes = await fn();
  const ms = performance.now() - t0;
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 20);
  await fn();
  clearInterval(timer);
  return { ms, peakMiB: (peak - base) / 1024 / 1024, bytes };
}

const runtime = await startRuntime();
const { prisma, config, logger } = runtime;
const prefix = `bench-export-${randomBytes(3).toString('hex')}`;
const period = parsePeriod('2099-01');
try {
  console.log(`generating ${count.toLocaleString('en')} invoices (${(count * 3).toLocaleString('en')} lines) for ${period.key} ...`);
  await generateInvoicePeriod(prisma, { prefix, period, count });
  const boss = await attachBoss(runtime, { worker: false });
  const app = await buildApp({ prisma, boss, config, logger: logger.child({}, { level: 'warn' }) }, allRoutes);
  runtime.onShutdown(async () => app.close());
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const token = await signAccessToken({ sub: 'bench', roles: ['finance'] }, config.AUTH_JWT_SECRET, { issuer: config.AUTH_JWT_ISSUER });

  const streamed = await measure(async () => {
    const res = await fetch(`${address}/api/v1/invoices/export?period=${period.key}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
    let bytes = 0;
    for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
    return bytes;
  });

  const baseline = await measure(async () => {
    const rows = await prisma.$queryRaw<Record<string, unknown>[]>`
      SELECT i.id::text, i.number, i.status::text, t.slug, i.currency::text, i.issued_at, i.due_at, i.subtotal_minor::text, i.tax_minor::text, i.total_minor::text,
             l.line_no, d.slug AS deployment, l.kind::text, l.description, l.quantity::text, l.unit_price::text, l.amount_minor::text
        FROM tenant_invoices i JOIN tenants t ON t.id = i.tenant_id JOIN tenant_invoice_lines l ON l.invoice_id = i.id
        LEFT JOIN deployments d ON d.id = l.deployment_id
       WHERE i.period_start = ${period.start}::timestamptz ORDER BY i.id, l.line_no`;
    const csv = stringify(rows.map((r) => Object.values(r).map((v) => (v instanceof Date ? v.toISOString() : String(v ?? '')))));
    return Buffer.byteLength(csv);
  });

  const table = new Table({ head: ['', 'time (ms)', 'peak live heap above start (MiB)', 'CSV bytes'], style: { head: [], border: [] } });
  table.push(['streamed export (HTTP)', streamed.ms.toFixed(0), streamed.peakMiB.toFixed(1), streamed.bytes.toLocaleString('en')]);
  table.push(['baseline: one query + one string', baseline.ms.toFixed(0), baseline.peakMiB.toFixed(1), baseline.bytes.toLocaleString('en')]);
  console.log(table.toString());
  console.log(`peak live heap, streamed / baseline: ${(streamed.peakMiB / baseline.peakMiB).toFixed(2)}; time, streamed / baseline: ${(streamed.ms / baseline.ms).toFixed(2)}`);
  if (!(globalThis as { gc?: unknown }).gc) console.log('(run with node --expose-gc for steadier heap figures; npm run bench:export does)');
  await deleteInvoicePeriod(prisma, prefix);
  await runtime.shutdown(0);
} catch (error) {
  console.error(error);
  await deleteInvoicePeriod(prisma, prefix).catch(() => {});
  await runtime.shutdown(1);
}
