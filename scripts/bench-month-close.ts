// npm run bench:month-close -- [--tenants 10000] [--deployments-per-tenant 3] [--events 1000000] [--workers 1,2] [--repeat 3] [--keep]
// Seeds a fresh database set-based with a realistic April 2026: three plans with two versions
// each, plan changes, pauses, cancellations, trials ending and deployments starting inside the
// month, add-ons attached and detached mid-month, resources created and deleted inside the month
// (and outside it), LLM events with 12-digit decimal charges spread over the month (a few just
// outside it), tenants whose only deployments were paused all month (not invoiced), and GST 10 %
// or 0 %. Then times, through the public run API (createRun + executeRun), each phase after a CHECKPOINT:
//   close (creates every invoice), re-run (skips every invoice), dry run, forced re-run,
// and a BASELINE: one hand-written SQL statement, written from the rules in the README (not from
// the project's code), that computes every tenant's subtotal, tax and total into a scratch table.
// The baseline and the close are timed --repeat times, in turns (baseline, close, baseline, close, ...;
// the April invoices removed between closes), and each figure is the median of its runs: on a shared
// 2-core machine one run of either drifts by ±25 % from minute to minute, and the ratio of two
// medians taken side by side is what holds. Every sample is printed too.
// Every invoice total must equal the baseline's to the cent (after the close and after the forced
// re-run), or the bench prints the first differences and exits 1. Beside the baseline, STORE_FLOOR:
// the time PostgreSQL takes to store the close's output alone (its invoices, lines and first status
// rows copied table to table into empty tables with the same indexes; no reading of inputs, no
// computing, no foreign keys): what any close must pay at least. Then, for each count in --workers
// (0 skips it), the same close through the queue as the scheduler runs it: the April invoices are
// removed, N worker processes (scripts/lib/worker-process.ts, WORKER_CONCURRENCY 2 each) are started
// and ready, and the time runs from queueing the run to its completion, checked against the baseline
// again. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createQueues } from '../jobs/catalog.ts';
import { createRun, enqueueRun, executeRun } from '../src/invoicing/month-close-runs.ts';
import { startBoss } from '../src/platform/queue.ts';
import { startWorkerProcess, stopWorkerProcess } from './lib/worker-processes.ts';
import { parsePeriod } from '../src/invoicing/period.ts';
import { freshBenchDatabase, peakRssMb, round, sampleRss } from './lib/bench.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '10000' },
    'deployments-per-tenant': { type: 'string', default: '3' },
    events: { type: 'string', default: '1000000' },
    workers: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const WORKER_COUNTS = values.workers.split(',').map((w) => w.trim()).filter((w) => w !== '' && w !== '0');
if (WORKER_COUNTS.some((w) => !/^\d+$/.test(w) || Number(w) > 8)) {
  console.error('--workers must be a comma-separated list of worker counts from 1 to 8 (0 skips the queued close)');
  process.exit(2);
}
const int = (name: 'tenants' | 'deployments-per-tenant' | 'events', min: number): number => {
  const raw = values[name];
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    console.error(`--${name} must be an integer ≥ ${min}`);
    process.exit(2);
  }
  return Number(raw);
};
const TENANTS = int('tenants', 1);
const PER_TENANT = int('deployments-per-tenant', 1);
const EVENTS = int('events', 0);
if (!/^[1-9]$/.test(values.repeat)) {
  console.error('--repeat must be an integer from 1 to 9');
  process.exit(2);
}
const REPEAT = Number(values.repeat);

const db = await freshBenchDatabase('invoicing_bench_close', { poolMax: 10 });
const { prisma } = db;
const sql = (text: string) => prisma.$executeRawUnsafe(text);
const failures: string[] = [];

async function seed(): Promise<void> {
  // Tenants: GST 10 %, every 13th 0 %.
  await sql(`INSERT INTO tenants (name, slug, created_at)
             SELECT 'Bench ' || n, 'bench-' || n, '2025-12-01Z' FROM generate_series(1, ${TENANTS}) n`);
  // One tax profile each, in force from the beginning of time: GST 10 %, or 0 % for every 13th tenant.
  await sql(`INSERT INTO tenant_tax_profiles (tenant_id, country, gst_rate, effective_from, created_by)
             SELECT t.id, 'AU', CASE WHEN n % 13 = 0 THEN 0 ELSE 0.1 END, '1970-01-01Z', 'bench'
               FROM generate_series(1, ${TENANTS}) n JOIN tenants t ON t.slug = 'bench-' || n`);
  // Three plans, two versions each, with droplet and volume allowances (overage prices with 4-5 decimals).
  await sql(`INSERT INTO plans (code, name) VALUES ('starter', 'Starter'), ('studio', 'Studio'), ('scale', 'Scale')`);
  await sql(`INSERT INTO plan_versions (plan_id, version, base_price_minor, currency)
             SELECT p.id, v.version, v.price, 'AUD' FROM plans p
               JOIN (VALUES ('starter', 1, 2900), ('starter', 2, 3100), ('studio', 1, 5000), ('studio', 2, 5500),
                            ('scale', 1, 12000), ('scale', 2, 12900)) AS v(code, version, price) ON v.code = p.code`);
  await sql(`INSERT INTO plan_version_allowances (plan_version_id, resource_kind, included_hours, overage_unit_price)
             SELECT pv.id, a.kind, a.hours * (CASE p.code WHEN 'starter' THEN 1 WHEN 'studio' THEN 2 ELSE 4 END), a.price / pv.version
               FROM plan_versions pv JOIN plans p ON p.id = pv.plan_id
              CROSS JOIN (VALUES ('droplet', 744, 0.01235), ('volume', 360, 0.0021)) AS a(kind, hours, price)`);
  await sql(`INSERT INTO addons (code, name, price_minor, currency) VALUES ('storage_50gb', 'Storage 50 GB', 750, 'AUD'), ('backups', 'Backups', 199, 'AUD')`);
  // Deployments, numbered idx = 0.. across tenants (the scratch table bench_deployments keeps the numbering).
  await sql(`CREATE TABLE bench_deployments (idx int PRIMARY KEY, n int NOT NULL, k int NOT NULL, tenant_id uuid NOT NULL, deployment_id uuid NOT NULL DEFAULT gen_random_uuid(),
                                              plan int NOT NULL, scenario text NOT NULL)`);
  await sql(`INSERT INTO bench_deployments (idx, n, k, tenant_id, plan, scenario)
             SELECT (t.n - 1) * ${PER_TENANT} + k - 1, t.n, k, t.id, ((t.n + k) % 3),
                    CASE WHEN t.n % 97 = 0 THEN 'paused_all_month'          -- the whole tenant: not invoiced
                         ELSE (ARRAY['steady', 'plan_change', 'pause', 'cancel', 'steady', 'started_mid_month', 'steady', 'trial_ends', 'steady', 'paused_all_month'])
                              [1 + (((t.n - 1) * ${PER_TENANT} + k - 1) % 10)] END
               FROM (SELECT id, substr(slug, 7)::int AS n FROM tenants) t CROSS JOIN generate_series(1, ${PER_TENANT}) k`);
  await sql(`INSERT INTO deployments (id, tenant_id, slug, display_name, region, state, created_at)
             SELECT deployment_id, tenant_id, 'd' || k, 'Deployment ' || idx, 'syd1', 'active', '2025-12-01Z' FROM bench_deployments`);
  await sql(`INSERT INTO subscriptions (deployment_id, status, started_at, current_period_start, current_period_end, trial_ends_at)
             SELECT deployment_id, 'active', '2026-01-01Z', '2026-04-01Z', '2026-05-01Z',
                    CASE WHEN scenario = 'trial_ends' THEN '2026-04-10T00:00:00Z'::timestamptz END FROM bench_deployments`);
  // Segments: the plan's version 1 (version 2 after a plan change, on the next plan up).
  await sql(`WITH v AS (SELECT pv.id, p.code, pv.version FROM plan_versions pv JOIN plans p ON p.id = pv.plan_id),
                  d AS (SELECT b.*, s.id AS subscription_id, (ARRAY['starter', 'studio', 'scale'])[1 + b.plan] AS code,
                               (ARRAY['starter', 'studio', 'scale'])[1 + (b.plan + 1) % 3] AS next_code
                          FROM bench_deployments b JOIN subscriptions s ON s.deployment_id = b.deployment_id)
             INSERT INTO subscription_segments (subscription_id, plan_version_id, status, valid_from, valid_to)
             SELECT d.subscription_id, (SELECT id FROM v WHERE v.code = CASE WHEN seg.next_plan THEN d.next_code ELSE d.code END AND v.version = seg.version),
                    seg.status::subscription_status, seg.valid_from::timestamptz, seg.valid_to::timestamptz
               FROM d JOIN (VALUES
                 ('steady',            false, 1, 'active',    '2026-01-01Z',             NULL),
                 ('trial_ends',        false, 1, 'active',    '2026-01-01Z',             NULL),
                 ('plan_change',       false, 1, 'active',    '2026-01-01Z',             '2026-04-12T13:37:00Z'),
                 ('plan_change',       true,  2, 'active',    '2026-04-12T13:37:00Z',    NULL),
                 ('pause',             false, 1, 'active',    '2026-01-01Z',             '2026-04-08T06:00:00Z'),
                 ('pause',             false, 1, 'paused',    '2026-04-08T06:00:00Z',    '2026-04-20T18:30:00.250Z'),
                 ('pause',             false, 1, 'active',    '2026-04-20T18:30:00.250Z', NULL),
                 ('cancel',            false, 1, 'active',    '2026-01-01Z',             '2026-04-25T00:00:00Z'),
                 ('cancel',            false, 1, 'cancelled', '2026-04-25T00:00:00Z',    NULL),
                 ('started_mid_month', false, 2, 'active',    '2026-04-17T09:00:00Z',    NULL),
                 ('paused_all_month',  false, 1, 'active',    '2026-01-01Z',             '2026-03-15T00:00:00Z'),
                 ('paused_all_month',  false, 1, 'paused',    '2026-03-15T00:00:00Z',    NULL)
               ) AS seg(scenario, next_plan, version, status, valid_from, valid_to) ON seg.scenario = d.scenario`);
  // Add-ons, prices snapshotted: storage on every 3rd, backups × 2 attached mid-month on every 5th,
  // storage detached mid-month on every 7th.
  await sql(`INSERT INTO subscription_addons (subscription_id, addon_id, addon_code, addon_name, unit_price_minor, currency, quantity, attached_at, detached_at)
             SELECT s.id, a.id, a.code, a.name, a.price_minor, 'AUD', x.quantity, x.attached_at::timestamptz, x.detached_at::timestamptz
               FROM bench_deployments b JOIN subscriptions s ON s.deployment_id = b.deployment_id
               JOIN (VALUES (3, 'storage_50gb', 1, '2026-02-01Z', NULL), (5, 'backups', 2, '2026-04-15T09:00:00Z', NULL),
                            (7, 'storage_50gb', 1, '2026-02-01Z', '2026-04-20T12:00:00Z')) AS x(every, code, quantity, attached_at, detached_at)
                 ON b.idx % x.every = 0
               JOIN addons a ON a.code = x.code`);
  // Resources: two droplets and a volume all month; every 4th deployment a droplet created and
  // deleted inside the month; every 6th one deleted before it; every 8th one created after it.
  await sql(`INSERT INTO cloud_resources (provider, provider_resource_id, kind, name, deployment_id, created_at, deleted_at)
             SELECT 'digitalocean', 'bench-' || b.idx || '-' || r.name, r.kind, r.name, b.deployment_id, r.created_at::timestamptz, r.deleted_at::timestamptz
               FROM bench_deployments b
               JOIN (VALUES (1, 'web-1', 'droplet', '2026-03-01Z', NULL), (1, 'web-2', 'droplet', '2026-03-01T12:34:56Z', NULL),
                            (1, 'data', 'volume', '2026-03-01Z', NULL),
                            (4, 'batch', 'droplet', '2026-04-10T10:30:00Z', '2026-04-22T15:10:00.5Z'),
                            (6, 'old', 'droplet', '2026-02-01Z', '2026-03-20T00:00:00Z'),
                            (8, 'next', 'droplet', '2026-05-02T00:00:00Z', NULL)) AS r(every, name, kind, created_at, deleted_at)
                 ON b.idx % r.every = 0`);
  // LLM events: 12 fractional digits, spread over April; one in 100,000 just outside it.
  await sql(`INSERT INTO llm_usage_events (gateway_request_id, tenant_id, deployment_id, model, provider, prompt_tokens, completion_tokens,
                                           total_tokens, charge, currency, occurred_at, received_at, body_hash)
             SELECT 'bench-' || g, b.tenant_id, b.deployment_id, 'gpt-4o-mini', 'openai', 100, 50, 150,
                    ((g::bigint * 104729 + 12345) % 10000000000)::numeric / 1000000000000, 'AUD',
                    CASE WHEN g % 100000 = 1 THEN '2026-03-31T23:59:59.999Z'::timestamptz
                         WHEN g % 100000 = 2 THEN '2026-05-01T00:00:00Z'::timestamptz
                         ELSE '2026-04-01Z'::timestamptz + ((g::bigint * 7919) % 2592000000) * interval '1 millisecond' END,
                    '2026-04-30T23:00:00Z', md5(g::text)
               FROM generate_series(0, ${EVENTS} - 1) g
               JOIN bench_deployments b ON b.idx = g % ${TENANTS * PER_TENANT}`);
  // The state autovacuum leaves a month of inserts in by the 1st (PostgreSQL 13+ vacuums after inserts):
  // visibility map set, so the close's LLM sums are index-only scans.
  await sql('VACUUM ANALYZE');
}

/**
 * The baseline: ONE statement, from the rules in the README ("How month close decides"), not from
 * the project's code. April 2026 = [2026-04-01, 2026-05-01) = 2,592,000,000 ms. Lines are rounded
 * once each, half away from zero (PostgreSQL's round(numeric)); tax once on the subtotal.
 */
const BASELINE = `
CREATE TABLE bench_baseline AS
WITH seg AS (  -- every segment overlapping the period, with its billable stretch (active, past any trial)
  SELECT d.tenant_id, d.id AS deployment_id, sg.plan_version_id, sg.status, sg.valid_from,
         GREATEST(sg.valid_from, '2026-04-01Z', COALESCE(s.trial_ends_at, '-infinity')) AS bill_from,
         LEAST(COALESCE(sg.valid_to, 'infinity'), '2026-05-01Z') AS bill_to
    FROM subscription_segments sg JOIN subscriptions s ON s.id = sg.subscription_id JOIN deployments d ON d.id = s.deployment_id
   WHERE sg.valid_from < '2026-05-01Z' AND (sg.valid_to IS NULL OR sg.valid_to > '2026-04-01Z')
),
billable AS (SELECT * FROM seg WHERE status = 'active' AND bill_to > bill_from),
plan_base AS (  -- per deployment and plan version: base price × billable ms / period ms
  SELECT b.tenant_id, round(pv.base_price_minor * sum(EXTRACT(EPOCH FROM b.bill_to - b.bill_from) * 1000) / 2592000000) AS minor
    FROM billable b JOIN plan_versions pv ON pv.id = b.plan_version_id
   GROUP BY b.tenant_id, b.deployment_id, pv.id, pv.base_price_minor
),
addon AS (  -- per add-on row: price × quantity × ms attached while billable / period ms
  SELECT b.tenant_id, round(a.unit_price_minor * a.quantity
           * sum(GREATEST(0, EXTRACT(EPOCH FROM LEAST(b.bill_to, COALESCE(a.detached_at, 'infinity')) - GREATEST(b.bill_from, a.attached_at)) * 1000))
           / 2592000000) AS minor
    FROM billable b JOIN subscriptions s ON s.deployment_id = b.deployment_id JOIN subscription_addons a ON a.subscription_id = s.id
   GROUP BY b.tenant_id, a.id, a.unit_price_minor, a.quantity
),
last_seg AS (  -- the plan version in force at the end of the period: the last segment overlapping it
  SELECT DISTINCT ON (deployment_id) tenant_id, deployment_id, plan_version_id FROM seg ORDER BY deployment_id, valid_from DESC
),
hours AS (  -- per deployment and kind: each resource's overlap with the period, a started hour counting in full
  SELECT r.deployment_id, r.kind,
         sum(ceil(EXTRACT(EPOCH FROM LEAST(COALESCE(r.deleted_at, '2026-05-01Z'), '2026-05-01Z') - GREATEST(r.created_at, '2026-04-01Z')) / 3600)) AS hours
    FROM cloud_resources r
   WHERE r.created_at < '2026-05-01Z' AND (r.deleted_at IS NULL OR r.deleted_at > '2026-04-01Z')
   GROUP BY r.deployment_id, r.kind
),
overage AS (
  SELECT l.tenant_id, round((h.hours - al.included_hours) * al.overage_unit_price * 100) AS minor
    FROM last_seg l JOIN hours h ON h.deployment_id = l.deployment_id
    JOIN plan_version_allowances al ON al.plan_version_id = l.plan_version_id AND al.resource_kind = h.kind
   WHERE h.hours > al.included_hours
),
llm AS (  -- per deployment: the exact sum of its events in the period, rounded once
  SELECT d.tenant_id, round(sum(e.charge) * 100) AS minor
    FROM llm_usage_events e JOIN deployments d ON d.id = e.deployment_id
   WHERE e.occurred_at >= '2026-04-01Z' AND e.occurred_at < '2026-05-01Z'
   GROUP BY d.tenant_id, d.id
),
per_tenant AS (  -- invoiced = has a billable stretch or LLM usage; its subtotal = the sum of its lines
  SELECT tenant_id, sum(minor) AS subtotal_minor, bool_or(billable) AS invoiced FROM (
    SELECT tenant_id, minor, true AS billable FROM plan_base UNION ALL SELECT tenant_id, minor, true FROM addon
    UNION ALL SELECT tenant_id, minor, false FROM overage UNION ALL SELECT tenant_id, minor, true FROM llm) lines
   GROUP BY tenant_id
)
SELECT pt.tenant_id, pt.subtotal_minor::bigint, round(pt.subtotal_minor * tp.gst_rate)::bigint AS tax_minor,
       (pt.subtotal_minor + round(pt.subtotal_minor * tp.gst_rate))::bigint AS total_minor
  FROM per_tenant pt
  JOIN LATERAL (SELECT gst_rate FROM tenant_tax_profiles WHERE tenant_id = pt.tenant_id AND effective_from < '2026-05-01Z'
                 ORDER BY effective_from DESC LIMIT 1) tp ON true
 WHERE pt.invoiced`;

/** Every April invoice against the baseline, to the cent; the first differences as text. */
async function differences(): Promise<{ count: number; first: string[] }> {
  const rows = await prisma.$queryRawUnsafe<{ tenant: string; invoiced: string | null; baseline: string | null }[]>(`
    SELECT COALESCE(t.slug, b.tenant_id::text, i.tenant_id::text) AS tenant,
           i.subtotal_minor || ' + ' || i.tax_minor || ' = ' || i.total_minor AS invoiced,
           b.subtotal_minor || ' + ' || b.tax_minor || ' = ' || b.total_minor AS baseline
      FROM (SELECT * FROM tenant_invoices WHERE period_start = '2026-04-01Z') i
      FULL JOIN bench_baseline b ON b.tenant_id = i.tenant_id
      LEFT JOIN tenants t ON t.id = COALESCE(i.tenant_id, b.tenant_id)
     WHERE i.tenant_id IS NULL OR b.tenant_id IS NULL OR (i.subtotal_minor, i.tax_minor, i.total_minor) <> (b.subtotal_minor, b.tax_minor, b.total_minor)
     ORDER BY 1`);
  return { count: rows.length, first: rows.slice(0, 5).map((r) => `${r.tenant}: invoiced ${r.invoiced ?? '(none)'}, baseline ${r.baseline ?? '(none)'}`) };
}

/** The close's own rows copied into empty tables LIKE theirs (indexes, checks, defaults; no foreign keys), timed. */
async function storeFloor(): Promise<number> {
  const tables = ['tenant_invoices', 'tenant_invoice_lines', 'invoice_status_changes'];
  for (const t of tables) await sql(`CREATE TABLE bench_store_${t} (LIKE ${t} INCLUDING ALL)`);
  await sql('CHECKPOINT');
  const { seconds } = await timed(async () => {
    for (const t of tables) await sql(`INSERT INTO bench_store_${t} SELECT * FROM ${t}`);
  });
  for (const t of tables) await sql(`DROP TABLE bench_store_${t}`);
  return seconds;
}

/** A timed phase, started after a CHECKPOINT: no phase pays for writing out the one before it. */
async function phase<T>(fn: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  await sql('CHECKPOINT');
  return timed(fn);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = performance.now();
  const result = await fn();
  return { seconds: round((performance.now() - started) / 1000, 3), result };
}

const april = parsePeriod('2026-04');
const now = new Date('2026-05-01T03:00:00Z');
/** Through the public run API: a run row, then its execution, as the CLI does. */
async function close(options: { force?: boolean; dryRun?: boolean }): Promise<Record<string, unknown>> {
  const runId = await createRun(prisma, { period: april, trigger: 'cli', requestedBy: 'bench', reason: 'bench', ...options }, 'running');
  return (await executeRun({ prisma, now }, runId)) as unknown as Record<string, unknown>;
}
/**
 * The close as the scheduler runs it: queued (one job), planned into chunk jobs, and written by
 * `workers` separate worker processes. Times from queueing to the run's completion, the workers
 * already started (their start-up is not the close's).
 */
async function queuedClose(workers: number): Promise<{ seconds: number; summary: Record<string, unknown>; workerPeakRssMb: number | null }> {
  // Back to no April invoices (TRUNCATE: this bench database only).
  await sql('TRUNCATE tenant_invoices, month_close_chunks CASCADE');
  const children = await Promise.all(
    Array.from({ length: workers }, () =>
      startWorkerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', WORKER_NOW: now.toISOString(), MONTH_CLOSE_CHUNK_SIZE: '500', WORKER_CONCURRENCY: '2' }),
    ),
  );
  const boss = await startBoss({ url: db.url, logger: pino({ level: 'silent' }) });
  try {
    await createQueues(boss);
    await sql('CHECKPOINT');
    const started = performance.now();
    const runId = await enqueueRun(prisma, boss, { period: april, trigger: 'cli', requestedBy: 'bench', reason: 'bench' });
    if (!runId) throw new Error('the queued close was not queued');
    for (;;) {
      const run = await prisma.monthCloseRun.findUniqueOrThrow({ where: { id: runId } });
      if (run.status === 'failed') throw new Error(`the queued close failed: ${run.error}`);
      if (run.status === 'completed' || run.status === 'completed_with_failures') {
        const seconds = round((performance.now() - started) / 1000, 3);
        return { seconds, summary: run.summary as Record<string, unknown>, workerPeakRssMb: peakRssOf(children.map((c) => c.pid!)) };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await boss.stop({ graceful: false, close: true });
    await Promise.all(children.map(stopWorkerProcess));
  }
}

/**
 * The highest peak RSS (VmHWM) among the worker processes, in MB: the close's memory where it runs
 * in production, one process per worker, each started for this close alone. Null where /proc cannot tell.
 */
function peakRssOf(pids: number[]): number | null {
  try {
    return Math.max(...pids.map((pid) => Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024)));
  } catch {
    return null;
  }
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2, 3);
}

/** The summary's counts that exist (the summary may grow fields): never a hard dependency on its shape. */
const counts = (s: Record<string, unknown>) => Object.fromEntries(Object.entries(s).filter(([, v]) => typeof v === 'number'));

try {
  const seeded = await timed(seed);
  const [sizes] = await prisma.$queryRawUnsafe<{ deployments: number; events: number; db_mb: number }[]>(
    `SELECT (SELECT count(*)::int FROM deployments) AS deployments, (SELECT count(*)::int FROM llm_usage_events) AS events,
            (pg_database_size(current_database()) / 1048576)::int AS db_mb`,
  );
  const baselineSamples: number[] = [];
  const closeSamples: number[] = [];
  let lastClose!: { seconds: number; result: Record<string, unknown> };
  let closePeakRssMb = 0;
  for (let i = 0; i < REPEAT; i++) {
    await sql('DROP TABLE IF EXISTS bench_baseline');
    baselineSamples.push((await phase(() => sql(BASELINE))).seconds);
    // Back to no April invoices for the next close (TRUNCATE: this bench database only).
    if (i > 0) await sql('TRUNCATE tenant_invoices, month_close_chunks CASCADE');
    // The RSS during the first close itself (the process's maxRSS also holds the seed's; later
    // closes in this process also hold what V8 kept of the ones before).
    const closeRss = i === 0 ? sampleRss(20) : null;
    lastClose = await phase(() => close({}));
    if (closeRss) closePeakRssMb = Math.round(closeRss.stop() / 1048576);
    closeSamples.push(lastClose.seconds);
  }
  const closeSeconds = median(closeSamples);
  const baselineSeconds = median(baselineSamples);
  const afterClose = await differences();
  const storeFloorSeconds = await storeFloor();
  const again = await phase(() => close({}));
  const dry = await phase(() => close({ dryRun: true }));
  const forced = await phase(() => close({ force: true }));
  const afterForce = await differences();
  const queued: Record<string, number> = {};
  const queuedDifferences: [string, { count: number; first: string[] }][] = [];
  for (const workers of WORKER_COUNTS) {
    const result = await queuedClose(Number(workers));
    const label = `queued_close_${workers}_worker${workers === '1' ? '' : 's'}`;
    queued[`${label}_seconds`] = result.seconds;
    if (result.workerPeakRssMb !== null) queued[`${label}_peak_rss_mb`] = result.workerPeakRssMb;
    queuedDifferences.push([`after the queued close on ${workers} worker(s)`, await differences()]);
  }
  const [invoiced] = await prisma.$queryRawUnsafe<{ invoices: number; baseline_tenants: number }[]>(
    `SELECT (SELECT count(*)::int FROM tenant_invoices WHERE period_start = '2026-04-01Z') AS invoices, (SELECT count(*)::int FROM bench_baseline) AS baseline_tenants`,
  );
  for (const [when, d] of [['after the close', afterClose], ['after the forced re-run', afterForce], ...queuedDifferences] as const) {
    if (d.count > 0) failures.push(`${d.count} invoice(s) differ from the baseline ${when}:\n  ${d.first.join('\n  ')}`);
  }
  console.log(
    JSON.stringify({
      tenants: TENANTS,
      deployments: sizes!.deployments,
      events: sizes!.events,
      invoices: invoiced!.invoices,
      seed_seconds: seeded.seconds,
      close_seconds: closeSeconds,
      rerun_seconds: again.seconds,
      dry_run_seconds: dry.seconds,
      forced_seconds: forced.seconds,
      baseline_seconds: baselineSeconds,
      ratio: round(closeSeconds / baselineSeconds, 1),
      close_samples: closeSamples,
      baseline_samples: baselineSamples,
      store_floor_seconds: storeFloorSeconds,
      forced_over_close: round(forced.seconds / closeSeconds, 2),
      ...queued,
      close_peak_rss_mb: closePeakRssMb,
      peak_rss_mb: peakRssMb(),
      database_mb: sizes!.db_mb,
      totals_match: failures.length === 0,
      close: counts(lastClose.result),
      rerun: counts(again.result),
      forced: counts(forced.result),
    }),
  );
} catch (error) {
  failures.push(String((error as Error).stack ?? error));
} finally {
  await db.close({ keep: values.keep });
}
if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
