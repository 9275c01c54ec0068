// Shared by the bench:* scripts: a fresh database per run (created, migrated, dropped unless
// --keep), the real API on a loopback port, latency percentiles and peak RSS. Figures only: the
// benches print, they never assert timings.
import { Worker } from 'node:worker_threads';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { createQueues } from '../../jobs/catalog.ts';
import { signAccessToken, type Role } from '../../src/auth/tokens.ts';
import { buildApp, type App } from '../../src/http/app.ts';
import { allRoutes } from '../../src/http/routes.ts';
import { config as processConfig } from '../../src/platform/config.ts';
import { createPrisma, resolveDatabase, type PrismaClient } from '../../src/platform/database.ts';
import { migrate } from '../../src/platform/migrate.ts';
import { startBoss, type PgBoss } from '../../src/platform/queue.ts';

export interface BenchDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
  /** Disconnects, drops the database unless `keep`, and stops an embedded server this process started. */
  close(options: { keep: boolean }): Promise<void>;
}

/** A new database on the configured server (DATABASE_URL, or the embedded one), migrated. */
export async function freshBenchDatabase(prefix: string, options: { poolMax?: number } = {}): Promise<BenchDatabase> {
  const server = await resolveDatabase(processConfig());
  const name = `${prefix}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
  await migrate(url);
  const prisma = createPrisma(url, { max: options.poolMax ?? 10 });
  return {
    name,
    url,
    prisma,
    async close({ keep }) {
      await prisma.$disconnect();
      if (!keep) await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.end();
      await server.release();
    },
  };
}

export interface BenchApi {
  app: App;
  boss: PgBoss;
  /** http://127.0.0.1:<port> */
  origin: string;
  token(roles: Role[], tenantId?: string | null): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real app (every route, bearer auth, request logging at the configured LOG_LEVEL) listening
 * on a loopback port, configured as in production (NODE_ENV=production: the hot routes skip the
 * response-schema check, see hotPathSerialization). Logs go to /dev/null so the bench's output
 * stays readable while their cost is still paid, as in production.
 */
export async function startBenchApi(db: BenchDatabase): Promise<BenchApi> {
  const config = { ...processConfig(), NODE_ENV: 'production' as const, DATABASE_URL: db.url };
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'tenant-invoicing' } }, pino.destination({ dest: '/dev/null', sync: false }));
  const boss = await startBoss({ url: db.url, logger });
  await createQueues(boss);
  const app = await buildApp({ prisma: db.prisma, boss, config, logger }, allRoutes);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the API is not listening on a TCP port');
  return {
    app,
    boss,
    origin: `http://127.0.0.1:${address.port}`,
    token: (roles, tenantId = null) => signAccessToken({ sub: 'bench', tenantId, roles }, config.AUTH_JWT_SECRET, { ttlSeconds: 3600 }),
    async close() {
      await app.close();
      await boss.stop({ graceful: false, close: true });
    },
  };
}

/** Latencies in ms -> p50/p99 (nearest rank). */
export function percentiles(latenciesMs: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  return { p50: round(at(50)), p99: round(at(99)), max: round(sorted.at(-1) ?? 0) };
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits)); // timings, not money

/** Peak RSS of this process so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * Runs `total` calls of `fn` from `clients` concurrent loops (fn gets the call's number and its
 * loop's); each call's latency is recorded.
 * Returns the wall time, the latencies, how busy the clients' own event loop was (0-1: near 1,
 * the load generator itself would be the bottleneck) and the CPU time their thread used.
 */
export async function load(
  clients: number,
  total: number,
  fn: (i: number, client: number) => Promise<void>,
): Promise<{ seconds: number; latenciesMs: number[]; clientBusy: number; clientCpuMs: number }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const elu = performance.eventLoopUtilization();
  const cpu = process.threadCpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = next++; i < total; i = next++) {
        const t = performance.now();
        await fn(i, client);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latenciesMs, clientBusy: round(performance.eventLoopUtilization(elu).utilization), clientCpuMs: cpuMs(process.threadCpuUsage(cpu)) };
}

/**
 * Runs a bench phase's clients in a worker thread (the module itself, given `data`), so the clients
 * do not share the API's event loop; `apiBusy` is how busy the API's loop was meanwhile (0-1),
 * `apiCpuMs` the CPU time the API's thread used (its share of the pg pool and HTTP work included),
 * `apiLoopDelay` how late its event loop ran (p99 and max, ms: a stall of the API itself shows
 * here, one of PostgreSQL or of the machine does not) and `dbCpuMs` the CPU time of the PostgreSQL backends serving `db` (null when the server is not
 * a local process whose /proc this machine can read).
 */
export async function inWorkerThread<R>(
  module: URL,
  data: unknown,
  options: { label?: string; db?: BenchDatabase } = {},
): Promise<R & { apiBusy: number; apiCpuMs: number; dbCpuMs: number | null; apiLoopDelay: { p99: number; max: number } }> {
  const profiler = await startProfile();
  const dbCpu = options.db ? await backendCpu(options.db) : null;
  const before = performance.eventLoopUtilization();
  const cpu = process.threadCpuUsage();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const result = await new Promise<R>((resolve, reject) => {
    const worker = new Worker(module, { workerData: data });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  delay.disable();
  const apiLoopDelay = { p99: round(delay.percentile(99) / 1e6), max: round(delay.max / 1e6) };
  const apiBusy = round(performance.eventLoopUtilization(before).utilization);
  const apiCpuMs = cpuMs(process.threadCpuUsage(cpu));
  const dbCpuMs = dbCpu ? await dbCpu.spentMs() : null;
  await profiler?.(options.label ?? 'phase');
  return { ...result, apiBusy, apiCpuMs, dbCpuMs, apiLoopDelay };
}

/**
 * The CPU time the PostgreSQL backends serving `db` spend from now until `spentMs()` is called, in
 * ms; null when they cannot be read (see backendCpuMs).
 */
export async function backendCpu(db: BenchDatabase): Promise<{ spentMs(): Promise<number | null> }> {
  const before = await backendCpuMs(db);
  return {
    async spentMs() {
      const after = await backendCpuMs(db);
      if (!before || !after) return null;
      let spent = 0;
      for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? 0);
      return spent;
    },
  };
}

/** The highest RSS of this process, in bytes, from now until `stop()`, sampled every `everyMs`. */
export function sampleRss(everyMs = 10): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/**
 * CPU time (ms) so far of each PostgreSQL backend connected to `db` (the API's pool and pg-boss),
 * from /proc/<pid>/stat; null unless every one is a local postgres process serving this database.
 * A backend that exits during a phase takes its time with it (the pool keeps them while busy).
 */
async function backendCpuMs(db: BenchDatabase): Promise<Map<number, number> | null> {
  const rows = await db.prisma.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`;
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(db.name)) return null;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
    } catch {
      return null;
    }
  }
  return out;
}
/** USER_HZ: 100 on every Linux build this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** A thread's CPU time (user + system) in ms: unlike latencies, barely moved by other processes on the machine. */
function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

let profiles = 0;
/**
 * With BENCH_CPU_PROFILE=<dir>, a CPU profile of the API's thread (this one) while a phase's
 * clients run, written as <dir>/<n>-<label>.cpuprofile (open it in Chrome DevTools); the seed and
 * the start-up are left out, unlike `node --cpu-prof`. Returns the function that stops it, or
 * undefined when the variable is not set.
 */
async function startProfile(): Promise<((label: string) => Promise<void>) | undefined> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (label) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${++profiles}-${label}.cpuprofile`), JSON.stringify(profile));
  };
}
