// The queue side with a real pg-boss and real workers: the API queues a rollup, the cron tick
// closes the previous month, and months whose close never ran are caught up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startWorkers } from '../../jobs/worker.ts';
import { QUEUES } from '../../jobs/catalog.ts';
import { catchUpMonthCloses, createRun, executeChunk, planRun, unclosedPeriods } from '../../src/invoicing/month-close-runs.ts';
import { closeChunk, emptySummary } from '../../src/invoicing/month-close.ts';
import { handleMonthCloseChunk } from '../../jobs/month-close-chunk.ts';
import { parsePeriod, previousPeriod } from '../../src/invoicing/period.ts';
import { useTestApp } from '../support/app.ts';
import { waitFor } from '../support/wait.ts';
import { seedPilot } from '../support/seed.ts';

let now = new Date('2026-05-02T00:00:00Z');
const ctx = useTestApp({ now: () => now });


let tenantId: string;
beforeAll(async () => {
  const { db, boss, config } = ctx();
  tenantId = (await seedPilot(db.prisma, 'queued')).tenant.id;
  // Workers in this process, on the same database, with the test clock. No catch-up at start:
  // the tests below trigger it explicitly.
  await startWorkers({ prisma: db.prisma, boss, config, logger: pino({ level: 'silent' }), now: () => now }, { catchUpOnStart: false });
});
afterAll(async () => {
  await ctx().boss.offWork(QUEUES.monthClose).catch(() => {});
});

describe('month close through the queue', () => {
  it('POST /api/v1/invoices/rollup answers 202 and GET /api/v1/jobs/:id returns its state and summary', async () => {
    const { app, auth } = ctx();
    const headers = await auth('finance');
    const res = await app.inject({ method: 'POST', url: '/api/v1/invoices/rollup', headers, payload: { period: '2026-04', tenant_id: tenantId, reason: 'test' } });
    expect(res.statusCode).toBe(202);
    const { job_id } = res.json();
    const job = await waitFor(async () => {
      const r = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${job_id}`, headers })).json();
      return r.run.status === 'completed' ? r : null;
    }, 'the rollup to complete');
    expect(job.summary).toMatchObject({ period: '2026-04', created: 1, failed: 0 });
    const invoice = await ctx().db.prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId } });
    expect(invoice.totalMinor).toBe(7064n);

    expect((await app.inject({ method: 'GET', url: `/api/v1/jobs/${job_id}`, headers: await auth('tenant_admin', tenantId) })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: `/api/v1/jobs/00000000-0000-4000-8000-000000000000`, headers })).statusCode).toBe(404);
  });

  it('the cron tick (a job without a run) closes the month before it and a re-delivery reuses its run', async () => {
    const { boss, db } = ctx();
    now = new Date(); // pg-boss stamps the tick with the real clock
    const jobId = await boss.send(QUEUES.monthClose, { trigger: 'schedule' });
    expect(jobId).toBeTruthy();
    const run = await waitFor(async () => {
      const r = await db.prisma.monthCloseRun.findUnique({ where: { id: jobId! } });
      return r?.status === 'completed' ? r : null;
    }, 'the scheduled close');
    // The tick's month is the real clock's (pg-boss stamps createdOn), so the period is the one before it.
    expect(run.trigger).toBe('schedule');
    expect(run.periodStart.toISOString()).toBe(previousPeriod(new Date()).start.toISOString());
    // A re-delivery of the same tick finds its run finished and does nothing more.
    const { handleMonthClose } = await import('../../jobs/month-close.ts');
    const again = await handleMonthClose(
      { prisma: db.prisma, boss, config: ctx().config, logger: pino({ level: 'silent' }), now: () => now },
      { id: jobId!, data: { trigger: 'schedule' }, createdOn: new Date() } as never,
    );
    expect(again.runId).toBe(jobId);
    expect(await db.prisma.monthCloseRun.count({ where: { id: jobId! } })).toBe(1);
  });

  it('detects and closes months whose close never ran, once', async () => {
    const { boss, db } = ctx();
    now = new Date('2026-07-05T00:00:00Z');
    const missing = await unclosedPeriods(db.prisma, now, 3);
    // April was closed for one tenant only (the rollup above): that is not a full close.
    expect(missing.map((p) => p.key)).toEqual(['2026-04', '2026-05', '2026-06']);

    const [first, second] = await Promise.all([
      catchUpMonthCloses({ prisma: db.prisma, boss, now }, 3),
      catchUpMonthCloses({ prisma: db.prisma, boss, now }, 3),
    ]);
    // Two catch-ups at once queue each month once.
    expect([...first, ...second].sort()).toEqual(['2026-04', '2026-05', '2026-06']);

    await waitFor(async () => (await unclosedPeriods(db.prisma, now, 3)).length === 0 && (await db.prisma.monthCloseRun.count({ where: { trigger: 'catch_up', status: 'completed' } })) === 3, 'catch-up closes');
    const invoices = await db.prisma.tenantInvoice.findMany({ where: { tenantId, periodStart: { lt: new Date('2026-07-01T00:00:00Z') } }, orderBy: { periodStart: 'asc' } });
    expect(invoices.map((i) => i.periodStart.toISOString().slice(0, 7))).toEqual(['2026-04', '2026-05', '2026-06']);
    // April existed already: the catch-up skipped it rather than duplicating it.
    const april = await db.prisma.monthCloseRun.findFirstOrThrow({ where: { trigger: 'catch_up', periodStart: parsePeriod('2026-04').start } });
    expect(april.summary).toMatchObject({ skipped: 1, created: 0 });

    expect(await catchUpMonthCloses({ prisma: db.prisma, boss, now }, 3)).toEqual([]);
  });

  it('the catch-up queue job runs the same detection (as at worker start-up)', async () => {
    const { boss, db } = ctx();
    now = new Date('2026-08-03T00:00:00Z');
    await boss.send(QUEUES.monthCloseCatchUp, {});
    await waitFor(async () => (await db.prisma.tenantInvoice.count({ where: { tenantId, periodStart: parsePeriod('2026-07').start } })) === 1, 'July to be closed');
  });

  it('a run whose heartbeat went stale (a CLI killed mid-close) is abandoned: the catch-up queues a close that finishes the month', async () => {
    const { boss, db } = ctx();
    now = new Date('2026-09-05T00:00:00Z');
    const august = parsePeriod('2026-08');
    const second = (await seedPilot(db.prisma, 'second')).tenant.id;
    // A CLI close that wrote the first tenant and was killed: its run says running.
    const cliRun = await createRun(db.prisma, { period: august, trigger: 'cli', requestedBy: 'cli:test' }, 'running');
    await closeChunk({ prisma: db.prisma, now }, { runId: cliRun, period: august, force: false, dryRun: false, tenantId: null, reason: null, requestedBy: 'cli:test' }, [tenantId]);

    // While its heartbeat is fresh the month is being closed; the catch-up leaves it alone.
    await db.prisma.$executeRaw`UPDATE month_close_runs SET heartbeat_at = now() - interval '20 seconds' WHERE id = ${cliRun}::uuid`;
    expect(await unclosedPeriods(db.prisma, now, 1)).toEqual([]);
    // Silent for five minutes: abandoned, although far younger than two hours.
    await db.prisma.$executeRaw`UPDATE month_close_runs SET heartbeat_at = now() - interval '5 minutes' WHERE id = ${cliRun}::uuid`;
    expect((await unclosedPeriods(db.prisma, now, 1)).map((p) => p.key)).toEqual(['2026-08']);

    expect(await catchUpMonthCloses({ prisma: db.prisma, boss, now }, 1)).toEqual(['2026-08']);
    const run = await waitFor(
      async () => db.prisma.monthCloseRun.findFirst({ where: { trigger: 'catch_up', periodStart: august.start, status: 'completed' } }),
      'the catch-up to finish August',
    );
    expect(run.summary).toMatchObject({ tenants: 2, skipped: 1, created: 1, failed: 0 });
    for (const t of [tenantId, second]) expect(await db.prisma.tenantInvoice.count({ where: { tenantId: t, periodStart: august.start } })).toBe(1);
    expect(await unclosedPeriods(db.prisma, now, 1)).toEqual([]);

    // A re-delivered plan or chunk job changes nothing: the plan stays, the chunk is already recorded.
    const deps = { prisma: db.prisma, now };
    expect(await planRun({ ...deps, boss }, run.id)).toMatchObject({ chunks: 0, summary: { created: 1 } });
    expect(await executeChunk(deps, run.id, 1)).toEqual({ status: 'already_done', runStatus: 'completed' });
    expect(await db.prisma.monthCloseChunk.count({ where: { runId: run.id } })).toBe(1);
    expect((await db.prisma.monthCloseRun.findUniqueOrThrow({ where: { id: run.id } })).summary).toEqual(run.summary);
  });

  it('a chunk that fails on its last retry fails its tenants by name, and the run still completes', async () => {
    const { boss, db, config } = ctx();
    now = new Date('2026-10-05T00:00:00Z');
    const september = parsePeriod('2026-09');
    const runId = await createRun(db.prisma, { period: september, trigger: 'api', requestedBy: 'test' }, 'running');
    const plan = { ...emptySummary({ runId, period: september, force: false, dryRun: false, tenantId: null, reason: null, requestedBy: 'test' }), tenants: 1 };
    await db.prisma.$executeRaw`UPDATE month_close_runs SET plan = ${JSON.stringify(plan)}::jsonb WHERE id = ${runId}::uuid`;
    await db.prisma.monthCloseChunk.create({ data: { runId, chunkNo: 1, tenantIds: [tenantId] } });
    // The database refuses the chunk every time (here: its attempt counter cannot be bumped).
    await db.prisma.$executeRawUnsafe(`CREATE FUNCTION refuse_chunk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'simulated outage'; END $$`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_chunk BEFORE UPDATE ON month_close_chunks FOR EACH ROW WHEN (NEW.attempts <> OLD.attempts) EXECUTE FUNCTION refuse_chunk()`);
    try {
      const deps = { prisma: db.prisma, boss, config, logger: pino({ level: 'silent' }), now: () => now };
      const job = (retryCount: number) => ({ id: 'x', data: { runId, chunkNo: 1 }, retryCount, retryLimit: 8 }) as never;
      // With retries left the error goes back to pg-boss.
      await expect(handleMonthCloseChunk(deps, job(3))).rejects.toThrow(/simulated outage/);
      expect((await db.prisma.monthCloseRun.findUniqueOrThrow({ where: { id: runId } })).status).toBe('running');
      // On the last one the tenants fail by name and the run completes with failures.
      expect(await handleMonthCloseChunk(deps, job(8))).toMatchObject({ status: 'failed', runStatus: 'completed_with_failures' });
    } finally {
      await db.prisma.$executeRawUnsafe('DROP TRIGGER refuse_chunk ON month_close_chunks');
      await db.prisma.$executeRawUnsafe('DROP FUNCTION refuse_chunk()');
    }
    const run = await db.prisma.monthCloseRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run.summary).toMatchObject({ tenants: 1, created: 0, failed: 1, failures: [{ tenant_id: tenantId, tenant_slug: 'queued', error: expect.stringContaining('simulated outage') }] });
  });
});
