// Two worker processes (real child processes, real pg-boss) share one month close: every tenant is
// invoiced exactly once, and the chunk of a worker killed with SIGKILL mid-close is failed by its
// stopped heartbeat and finished by the other worker within the heartbeat window.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createQueues, QUEUES } from '../../jobs/catalog.ts';
import { enqueueRun } from '../../src/invoicing/month-close-runs.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { startBoss, type PgBoss } from '../../src/platform/queue.ts';
import { startWorkerProcess as startWorker } from '../../scripts/lib/worker-processes.ts';
import { useTestDatabase } from '../support/db.ts';
import { seedPilot } from '../support/seed.ts';
import { waitFor } from '../support/wait.ts';

const db = useTestDatabase();
const april = parsePeriod('2026-04');
const children: ChildProcess[] = [];
let boss: PgBoss;

async function startWorkerProcess(): Promise<ChildProcess> {
  const child = await startWorker({
    DATABASE_URL: db().url,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    MONTH_CLOSE_CHUNK_SIZE: '3',
    WORKER_CONCURRENCY: '1',
    WORKER_NOW: '2026-05-02T00:00:00Z',
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  boss = await startBoss({ url: db().url, logger: pino({ level: 'silent' }) });
  await createQueues(boss);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await boss.stop({ graceful: false, close: true });
});

async function activeChunkJobs(): Promise<number> {
  const [row] = await db().prisma.$queryRaw<{ n: number }[]>`
    SELECT COUNT(*)::int AS n FROM pgboss.job WHERE name = ${QUEUES.monthCloseChunk} AND state = 'active'`;
  return row!.n;
}

describe('month close over two worker processes', () => {
  it('invoices every tenant exactly once, and a killed worker’s chunk is retried by the other within the heartbeat window', async () => {
    const tenants = [];
    for (let i = 0; i < 12; i++) tenants.push((await seedPilot(db().prisma, `w${i}`)).tenant);
    // Each chunk's insert takes 2 s, so the kill lands mid-chunk.
    await db().prisma.$executeRawUnsafe(`CREATE FUNCTION slow_close() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$`);
    await db().prisma.$executeRawUnsafe(`CREATE TRIGGER slow_close AFTER INSERT ON tenant_invoices FOR EACH STATEMENT EXECUTE FUNCTION slow_close()`);

    const [a] = await Promise.all([startWorkerProcess(), startWorkerProcess()]);
    const runId = await enqueueRun(db().prisma, boss, { period: april, trigger: 'api', requestedBy: 'test' });
    expect(runId).toBeTruthy();

    // One chunk each (concurrency 1 per process), both mid-write: kill A while it holds one.
    await waitFor(
      async () => (await activeChunkJobs()) === 2 && (await db().prisma.monthCloseChunk.count({ where: { runId: runId!, status: 'queued', attempts: { gte: 1 } } })) === 2,
      'both workers to be writing a chunk',
      30_000,
    );
    a.kill('SIGKILL');
    const killedAt = Date.now();

    const run = await waitFor(async () => {
      const r = await db().prisma.monthCloseRun.findUnique({ where: { id: runId! } });
      return r && r.status !== 'running' && r.status !== 'queued' ? r : null;
    }, 'the close to complete on the surviving worker', 75_000);
    const recoverySeconds = (Date.now() - killedAt) / 1000;

    expect(run.status).toBe('completed');
    expect(run.summary).toMatchObject({ tenants: 12, created: 12, skipped: 0, failed: 0 });
    const perTenant = await db().prisma.tenantInvoice.groupBy({ by: ['tenantId'], where: { periodStart: april.start }, _count: true });
    expect(perTenant).toHaveLength(12);
    expect(perTenant.every((t) => t._count === 1)).toBe(true);
    expect(await db().prisma.tenantInvoiceLine.count({ where: { invoice: { periodStart: april.start } } })).toBe(12 * 4);

    const chunks = await db().prisma.monthCloseChunk.findMany({ where: { runId: runId! }, orderBy: { chunkNo: 'asc' } });
    expect(chunks.map((c) => c.status)).toEqual(['done', 'done', 'done', 'done']);
    // The killed worker's chunk was attempted twice, and its pg-boss job failed by heartbeat, then retried.
    expect(chunks.filter((c) => c.attempts >= 2)).toHaveLength(1);
    // The run completes inside the last chunk's handler; pg-boss marks that job completed just after it returns.
    await waitFor(async () => {
      const [retried] = await db().prisma.$queryRaw<{ n: number }[]>`
        SELECT COUNT(*)::int AS n FROM pgboss.job WHERE name = ${QUEUES.monthCloseChunk} AND retry_count >= 1 AND state = 'completed'`;
      return retried!.n === 1;
    }, 'the retried chunk job to be completed', 10_000);
    // heartbeat 20 s + supervisor every 15 s + retry delay 5 s, plus the remaining chunks.
    expect(recoverySeconds).toBeLessThan(60);
  }, 120_000);
});
