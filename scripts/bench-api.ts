// npm run bench:api [-- --tenants 100 --months 100 --requests 3000 --clients 4,8 --warmup 600 --keep]
// GET /api/v1/invoices through the real API on a loopback port, on a fresh database holding
// tenants × months invoices (10,000 by default, seeded set-based, each with a realistic `inputs`
// document). Three kinds of reader, each walking pages of 50 by the keyset cursor:
//   - staff (finance) over every invoice, newest first;
//   - staff filtered by one period;
//   - a tenant (tenant_admin) over its own invoices;
// and for each number of concurrent clients in --clients (each a closed loop: a client sends its
// next request when the last one is answered; 4 already keep both cores of the 2-core machine busy,
// 8 add queueing to the same rate): requests/s, p50/p99, the CPU time per request of the API's thread, of the
// clients' and of the PostgreSQL backends, and how late the API's event loop ran (p99/max): noise
// from other processes moves latencies far more than CPU time. First
// --warmup requests of all three kinds, not counted, so the phases measure JIT-compiled code.
// The clients run in a worker thread. Set BENCH_CPU_PROFILE=<dir> for a CPU profile of the API per
// phase. Prints one JSON line; exits 1 when a walk does not see exactly the invoices it should.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';
import { freshBenchDatabase, load, peakRssMb, percentiles, round, startBenchApi, inWorkerThread } from './lib/bench.ts';

interface Phase {
  origin: string;
  clients: number;
  requests: number;
  /** One per walk: the token and the query; a walk follows next_cursor to the end, then starts over. */
  walks: { token: string; query: string; expect: number }[];
}

interface PhaseResult {
  seconds: number;
  latenciesMs: number[];
  clientBusy: number;
  clientCpuMs: number;
  failures: string[];
}

if (!isMainThread) {
  const phase = workerData as Phase;
  const http = new Pool(phase.origin, { connections: phase.clients });
  const failures: string[] = [];
  // Each client loop walks on its own.
  const cursors = new Map<number, { walk: number; cursor: string | null; seen: number }>();
  let walkCounter = 0;
  const result = await load(phase.clients, phase.requests, async (_, slot) => {
    let state = cursors.get(slot);
    if (!state) cursors.set(slot, (state = { walk: walkCounter++ % phase.walks.length, cursor: null, seen: 0 }));
    const walk = phase.walks[state.walk]!;
    const path = `/api/v1/invoices?limit=50${walk.query}${state.cursor ? `&cursor=${encodeURIComponent(state.cursor)}` : ''}`;
    const response = await http.request({ path, method: 'GET', headers: { authorization: `Bearer ${walk.token}` } });
    const body = (await response.body.json()) as { data?: unknown[]; next_cursor?: string | null };
    if (response.statusCode !== 200 || !Array.isArray(body.data)) {
      failures.push(`${path}: ${response.statusCode} ${JSON.stringify(body).slice(0, 200)}`);
      return;
    }
    state.seen += body.data.length;
    state.cursor = body.next_cursor ?? null;
    if (state.cursor === null) {
      if (state.seen !== walk.expect) failures.push(`walk ${walk.query || '(all)'} saw ${state.seen} invoices, expected ${walk.expect}`);
      cursors.set(slot, { walk: walkCounter++ % phase.walks.length, cursor: null, seen: 0 });
    }
  });
  await http.close();
  parentPort!.postMessage({ ...result, failures } satisfies PhaseResult);
  process.exit(0);
}

const inWorker = (phase: Phase, label: string) => inWorkerThread<PhaseResult>(new URL(import.meta.url), phase, { label, db });

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '100' },
    months: { type: 'string', default: '100' },
    requests: { type: 'string', default: '3000' },
    clients: { type: 'string', default: '4,8' },
    warmup: { type: 'string', default: '600' },
    keep: { type: 'boolean', default: false },
  },
});
const int = (name: 'tenants' | 'months' | 'requests' | 'warmup'): number => {
  const raw = values[name];
  if (!/^\d+$/.test(raw) || (Number(raw) < 1 && name !== 'warmup')) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return Number(raw);
};
const TENANTS = int('tenants');
const MONTHS = int('months');
const REQUESTS = int('requests');
const CLIENT_COUNTS = values.clients.split(',').map((c) => c.trim());
if (CLIENT_COUNTS.some((c) => !/^\d+$/.test(c) || Number(c) < 1 || Number(c) > 64)) {
  console.error('--clients must be a comma-separated list of client counts from 1 to 64');
  process.exit(2);
}
const WARMUP = int('warmup');

const db = await freshBenchDatabase('invoicing_bench_api');
const failures: string[] = [];
let api: Awaited<ReturnType<typeof startBenchApi>> | undefined;
try {
  const seedStarted = performance.now();
  // Tenants, then one invoice per tenant and month, created at its month's close (03:00 on the
  // 1st), tenant after tenant; `inputs` about the size a tenant with a few deployments stores.
  await db.prisma.$executeRaw`
    INSERT INTO tenants (name, slug, created_at)
    SELECT 'Bench tenant ' || g, 'bench-' || g, '2017-01-01Z' FROM generate_series(1, ${TENANTS}::int) g`;
  await db.prisma.$executeRaw`
    INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, number, issued_at, due_at, currency, tax_rate, subtotal_minor, tax_minor, total_minor,
                                 inputs, inputs_hash, llm_event_count, computed_at, created_at, updated_at)
    SELECT t.id, p.start, p.start + interval '1 month',
           (CASE WHEN m < ${MONTHS}::int - 2 THEN 'paid' WHEN m < ${MONTHS}::int - 1 THEN 'issued' ELSE 'draft' END)::invoice_status,
           -- issued and paid invoices carry their number and dates (the table's CHECK); drafts none
           CASE WHEN m < ${MONTHS}::int - 1 THEN 'INV-BENCH-' || n || '-' || m END,
           CASE WHEN m < ${MONTHS}::int - 1 THEN p.start + interval '1 month 4 days' END,
           CASE WHEN m < ${MONTHS}::int - 1 THEN p.start + interval '1 month 18 days' END,
           'AUD', 0.1, 5000 + n, 500 + n / 10, 5500 + n + n / 10,
           jsonb_build_object('tenant', jsonb_build_object('id', t.id, 'gst_rate', '0.1'),
                              'deployments', (SELECT jsonb_agg(jsonb_build_object('id', gen_random_uuid(), 'segments',
                                 jsonb_build_array(jsonb_build_object('plan_version', 'studio@1', 'status', 'active', 'hours', 744)),
                                 'resource_hours', jsonb_build_object('droplet', 2232), 'llm_sum', '1.234567891234')) FROM generate_series(1, 3))),
           md5(t.id::text || m), n, p.start + interval '1 month 3 hours', p.start + interval '1 month 3 hours' + n * interval '10 ms',
           p.start + interval '1 month 3 hours'
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM tenants) t
     CROSS JOIN generate_series(0, ${MONTHS}::int - 1) m
     CROSS JOIN LATERAL (SELECT date_trunc('month', '2026-10-01Z'::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - (${MONTHS}::int - 1 - m) * interval '1 month' AS start) p`;
  await db.prisma.$executeRaw`ANALYZE`;
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const [counts] = await db.prisma.$queryRaw<{ invoices: number }[]>`SELECT count(*)::int AS invoices FROM tenant_invoices`;
  const tenants = await db.prisma.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM tenants ORDER BY id LIMIT 20`;
  const [period] = await db.prisma.$queryRaw<{ key: string }[]>`SELECT to_char(max(period_start) AT TIME ZONE 'UTC', 'YYYY-MM') AS key FROM tenant_invoices`;

  api = await startBenchApi(db);
  const finance = await api.token(['finance']);
  const phases = {
    staff_all: [{ token: finance, query: '', expect: counts!.invoices }],
    staff_period: [{ token: finance, query: `&period=${period!.key}`, expect: TENANTS }],
    tenant: await Promise.all(tenants.map(async (t) => ({ token: await api!.token(['tenant_admin'], t.id), query: '', expect: MONTHS }))),
  };
  if (WARMUP > 0) {
    const r = await inWorker({ origin: api.origin, clients: Number(CLIENT_COUNTS.at(-1)), requests: WARMUP, walks: Object.values(phases).flat() }, 'warmup');
    failures.push(...r.failures);
  }
  const figures: Record<string, Record<string, unknown>> = {};
  for (const clients of CLIENT_COUNTS) for (const [name, walks] of Object.entries(phases)) {
    const r = await inWorker({ origin: api.origin, clients: Number(clients), requests: REQUESTS, walks }, `${clients}-clients-${name}`);
    failures.push(...r.failures);
    const p = percentiles(r.latenciesMs);
    (figures[`clients_${clients}`] ??= {})[name] = { requests: REQUESTS, requests_per_s: Math.round(REQUESTS / r.seconds), p50_ms: p.p50, p99_ms: p.p99, api_event_loop_busy: r.apiBusy, client_event_loop_busy: r.clientBusy,
      api_cpu_ms_per_request: round(r.apiCpuMs / REQUESTS, 3), client_cpu_ms_per_request: round(r.clientCpuMs / REQUESTS, 3),
      db_cpu_ms_per_request: r.dbCpuMs === null ? null : round(r.dbCpuMs / REQUESTS, 3), api_loop_delay_ms: r.apiLoopDelay };
  }
  console.log(JSON.stringify({ invoices: counts!.invoices, tenants: TENANTS, page: 50, warmup_requests: WARMUP, seed_seconds: round(seedSeconds), ...figures, peak_rss_mb: peakRssMb() }));
} catch (error) {
  failures.push(String((error as Error).stack ?? error));
} finally {
  await api?.close();
  await db.close({ keep: values.keep });
}
if (failures.length > 0) {
  console.error(`${failures.length} failure(s):\n${failures.slice(0, 5).join('\n')}`);
  process.exit(1);
}
