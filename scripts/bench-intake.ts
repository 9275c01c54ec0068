// npm run bench:intake [-- --batch-events 200000 --batch-clients 8 --single-requests 20000 --single-clients 16 --pool 10
//                          --warmup-batches 20 --warmup-singles 2000 --keep]
// The LLM usage intake under load, through the real API on a loopback port (a fresh database):
// a tenant and a deployment are created through the API, then
//   0. a warm-up of both kinds (stored and counted, not timed);
//   1. batches of 500 events from several concurrent clients (undici): events/s, p50/p99 per request;
//   2. single-event requests from concurrent clients: requests/s, p50/p99;
//   3. 10% of both replayed: every replay must answer duplicate;
// and SQL checks that nothing was stored twice (rows = distinct gateway_request_id = events sent).
// Each phase also reports the CPU time per request of the API's thread, of the clients' thread
// and of the PostgreSQL backends, and how late the API's event loop ran (p99/max): on a shared
// machine latencies move with other processes, CPU times much less.
// The clients run in a worker thread (their own event loop), so the API's event loop serves
// requests rather than building and parsing them. BENCH_CPU_PROFILE=<dir> writes a CPU profile of
// the API per phase. Prints one JSON line; exits 1 when a check fails.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';
import { freshBenchDatabase, load, peakRssMb, percentiles, round, startBenchApi, inWorkerThread } from './lib/bench.ts';

// ---------------------------------------------------------------- the clients (worker thread)

interface Phase {
  origin: string;
  token: string;
  tenantId: string;
  deploymentId: string;
  run: string;
  kind: 'batch' | 'single';
  /** Batch numbers (kind batch) or single-event numbers (kind single) to post. */
  items: number[];
  clients: number;
  batchEvents: number;
  batchSize: number;
  /** What every answer must say. */
  expect: 'created' | 'duplicate';
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
  const post = async (body: string): Promise<{ status: number; json: any }> => {
    const response = await http.request({
      path: '/api/v1/integrations/llm-usage',
      method: 'POST',
      headers: { authorization: `Bearer ${phase.token}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.statusCode, json: await response.body.json() };
  };
  // 12 fractional digits, spread over the month: what the gateway really sends.
  const event = (id: string, i: number) => ({
    gateway_request_id: id,
    tenant_id: phase.tenantId,
    deployment_id: phase.deploymentId,
    model: 'gpt-4o-mini',
    provider: 'openai',
    prompt_tokens: 100 + (i % 900),
    completion_tokens: 50 + (i % 300),
    total_tokens: 150 + (i % 900) + (i % 300),
    charge: `0.${String((i * 7_919) % 1_000_000_000_000).padStart(12, '0')}`,
    currency: 'AUD',
    occurred_at: new Date(Date.UTC(2026, 3, 1) + ((i * 61_000) % (30 * 86_400_000))).toISOString(),
  });
  // Every request body is written before the clock starts: the clients then only send and read,
  // so the load generator takes as little as it can of the CPU the API and PostgreSQL share.
  const requests = phase.items.map((n) => {
    if (phase.kind === 'single') return { n, events: 1, body: JSON.stringify(event(`bench-${phase.run}-s-${n}`, phase.batchEvents + n)) };
    const events = [];
    for (let i = n * phase.batchSize; i < Math.min(phase.batchEvents, (n + 1) * phase.batchSize); i++) events.push(event(`bench-${phase.run}-b-${i}`, i));
    return { n, events: events.length, body: JSON.stringify({ events }) };
  });
  const result = await load(phase.clients, requests.length, async (k) => {
    const { n, events, body } = requests[k]!;
    const r = await post(body);
    if (phase.kind === 'batch') {
      const count = phase.expect === 'created' ? r.json.created : r.json.duplicates;
      if (r.status !== 200 || count !== events) failures.push(`batch ${n}: ${r.status}, ${phase.expect} ${count} of ${events}`);
    } else {
      const ok = phase.expect === 'created' ? r.status === 201 : r.status === 200 && r.json.status === 'duplicate';
      if (!ok) failures.push(`single ${n}: ${r.status} ${JSON.stringify(r.json)}`);
    }
  });
  await http.close();
  parentPort!.postMessage({ ...result, failures } satisfies PhaseResult);
  process.exit(0);
}

const inWorker = (phase: Phase) => inWorkerThread<PhaseResult>(new URL(import.meta.url), phase, { label: `${phase.kind}-${phase.expect}`, db });

// ---------------------------------------------------------------- the run (main thread: the API)

const { values } = parseArgs({
  options: {
    'batch-events': { type: 'string', default: '200000' },
    'batch-size': { type: 'string', default: '500' },
    'batch-clients': { type: 'string', default: '8' },
    'single-requests': { type: 'string', default: '20000' },
    'single-clients': { type: 'string', default: '16' },
    pool: { type: 'string', default: '10' },
    'warmup-batches': { type: 'string', default: '20' },
    'warmup-singles': { type: 'string', default: '2000' },
    keep: { type: 'boolean', default: false },
  },
});
const int = (name: keyof typeof values): number => {
  const raw = values[name];
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return Number(raw);
};
const BATCH_EVENTS = int('batch-events');
const BATCH_SIZE = int('batch-size');
const BATCH_CLIENTS = int('batch-clients');
const SINGLE_REQUESTS = int('single-requests');
const SINGLE_CLIENTS = int('single-clients');
const POOL = int('pool');
const WARMUP_BATCHES = int('warmup-batches');
const WARMUP_SINGLES = int('warmup-singles');

const db = await freshBenchDatabase('invoicing_bench_intake', { poolMax: POOL });
const api = await startBenchApi(db);
const http = new Pool(api.origin, { connections: 2 });
const failures: string[] = [];

async function post(path: string, token: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await http.request({
    path,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, json: await response.body.json() };
}

try {
  const admin = await api.token(['platform_admin']);
  const tenant = await post('/api/v1/tenants', admin, { name: 'Bench Pty Ltd', slug: 'bench', billing_currency: 'AUD', tax_profile: { country: 'AU', gst_rate: '0.10' } });
  if (tenant.status !== 201) throw new Error(`creating the tenant answered ${tenant.status}: ${JSON.stringify(tenant.json)}`);
  const deployment = await post('/api/v1/deployments', admin, { tenant_id: tenant.json.id, slug: 'bench', display_name: 'Bench', region: 'syd1', state: 'active' });
  if (deployment.status !== 201) throw new Error(`creating the deployment answered ${deployment.status}: ${JSON.stringify(deployment.json)}`);
  const common = {
    origin: api.origin,
    token: await api.token(['llm_gateway']),
    tenantId: tenant.json.id as string,
    deploymentId: deployment.json.id as string,
    run: randomUUID().slice(0, 8),
    batchEvents: BATCH_EVENTS,
    batchSize: BATCH_SIZE,
  };
  const range = (n: number, step = 1) => Array.from({ length: Math.ceil(n / step) }, (_, k) => k * step);
  const batches = Math.ceil(BATCH_EVENTS / BATCH_SIZE);

  // 0. a warm-up of both kinds under another run id (stored, counted below, not timed): pool
  // connections opened, statements prepared, code compiled; 1. batches, 2. single events, 3. 10%
  // of both replayed: all duplicates.
  const warmup = { ...common, run: `${common.run}w`, batchEvents: WARMUP_BATCHES * BATCH_SIZE };
  const warmups = [
    await inWorker({ ...warmup, kind: 'batch', items: range(WARMUP_BATCHES), clients: BATCH_CLIENTS, expect: 'created' }),
    await inWorker({ ...warmup, kind: 'single', items: range(WARMUP_SINGLES), clients: SINGLE_CLIENTS, expect: 'created' }),
  ];
  const batched = await inWorker({ ...common, kind: 'batch', items: range(batches), clients: BATCH_CLIENTS, expect: 'created' });
  const singles = await inWorker({ ...common, kind: 'single', items: range(SINGLE_REQUESTS), clients: SINGLE_CLIENTS, expect: 'created' });
  const replayBatches = range(batches, 10);
  const replayed = await inWorker({ ...common, kind: 'batch', items: replayBatches, clients: BATCH_CLIENTS, expect: 'duplicate' });
  const replaySingles = range(SINGLE_REQUESTS, 10);
  const replayedSingles = await inWorker({ ...common, kind: 'single', items: replaySingles, clients: SINGLE_CLIENTS, expect: 'duplicate' });
  for (const r of [...warmups, batched, singles, replayed, replayedSingles]) failures.push(...r.failures);

  const [stored] = await db.prisma.$queryRaw<{ rows: number; ids: number }[]>`
    SELECT count(*)::int AS rows, count(DISTINCT gateway_request_id)::int AS ids
      FROM llm_usage_events WHERE deployment_id = ${common.deploymentId}::uuid`;
  const expected = WARMUP_BATCHES * BATCH_SIZE + WARMUP_SINGLES + BATCH_EVENTS + SINGLE_REQUESTS;
  if (stored!.rows !== expected || stored!.ids !== expected) failures.push(`stored ${stored!.rows} rows with ${stored!.ids} distinct ids; expected ${expected} of each`);

  const b = percentiles(batched.latenciesMs);
  const s = percentiles(singles.latenciesMs);
  console.log(
    JSON.stringify({
      batch: { events: BATCH_EVENTS, size: BATCH_SIZE, clients: BATCH_CLIENTS, seconds: round(batched.seconds), events_per_s: Math.round(BATCH_EVENTS / batched.seconds), p50_ms: b.p50, p99_ms: b.p99, api_event_loop_busy: batched.apiBusy, client_event_loop_busy: batched.clientBusy,
        api_cpu_ms_per_request: round(batched.apiCpuMs / batches, 3), client_cpu_ms_per_request: round(batched.clientCpuMs / batches, 3),
        db_cpu_ms_per_request: batched.dbCpuMs === null ? null : round(batched.dbCpuMs / batches, 3), api_loop_delay_ms: batched.apiLoopDelay },
      single: { requests: SINGLE_REQUESTS, clients: SINGLE_CLIENTS, seconds: round(singles.seconds), requests_per_s: Math.round(SINGLE_REQUESTS / singles.seconds), p50_ms: s.p50, p99_ms: s.p99, api_event_loop_busy: singles.apiBusy, client_event_loop_busy: singles.clientBusy,
        api_cpu_ms_per_request: round(singles.apiCpuMs / SINGLE_REQUESTS, 3), client_cpu_ms_per_request: round(singles.clientCpuMs / SINGLE_REQUESTS, 3),
        db_cpu_ms_per_request: singles.dbCpuMs === null ? null : round(singles.dbCpuMs / SINGLE_REQUESTS, 3), api_loop_delay_ms: singles.apiLoopDelay },
      replay: {
        batches: replayBatches.length,
        singles: replaySingles.length,
        batch_events_per_s: Math.round((replayBatches.length * BATCH_SIZE) / replayed.seconds),
        single_requests_per_s: Math.round(replaySingles.length / replayedSingles.seconds),
      },
      warmup: { batches: WARMUP_BATCHES, singles: WARMUP_SINGLES },
      pg_pool: POOL,
      stored_rows: stored!.rows,
      distinct_ids: stored!.ids,
      dedup_ok: failures.length === 0,
      peak_rss_mb: peakRssMb(),
    }),
  );
} catch (error) {
  failures.push(String((error as Error).stack ?? error));
} finally {
  await http.close();
  await api.close();
  await db.close({ keep: values.keep });
}
if (failures.length > 0) {
  console.error(`${failures.length} failure(s):\n${failures.slice(0, 5).join('\n')}`);
  process.exit(1);
}
