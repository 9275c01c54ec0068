// A month close run is the record of one close: who asked, with which options, and its summary.
// Runs are queued in the same transaction that records them (pg-boss fromPrisma), so a rollback
// never leaves a job pointing at nothing; the job id IS the run id.
import { randomUUID } from 'node:crypto';
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { subMonths } from 'date-fns/subMonths';
import { utc } from '@date-fns/utc';
import { Prisma } from '../generated/prisma/client.ts';
import { sqlOf, type PrismaClient, type Sql, type Tx } from '../platform/database.ts';
import type { MonthCloseRun } from '../generated/prisma/client.ts';
import { NotFoundError } from '../platform/errors.ts';
import { QUEUES } from '../../jobs/catalog.ts';
import {
  addLateUsage,
  addOutcomes,
  checkCloseOptions,
  ChunkAlreadyRecorded,
  closeChunk,
  closeMonth,
  emptyOutcomes,
  emptySummary,
  finishSummary,
  refreshWrittenStatistics,
  tenantsToClose,
  type ChunkOutcomes,
  type MonthCloseOptions,
  type MonthCloseSummary,
} from './month-close.ts';
import type { ReceivablesSettings } from '../receivables/settings.ts';
import { parsePeriod, periodOf, type Period } from './period.ts';
import { monthCloseDuration, monthCloseInvoices, monthCloseRuns } from '../platform/metrics.ts';

export type RunTrigger = 'schedule' | 'catch_up' | 'cli' | 'api' | 'demo';
export type RunStatus = 'queued' | 'running' | 'completed' | 'completed_with_failures' | 'failed';

export interface RunRequest {
  id?: string;
  period: Period;
  trigger: RunTrigger;
  force?: boolean;
  dryRun?: boolean;
  reissue?: boolean;
  tenantId?: string | null;
  reason?: string | null;
  requestedBy: string;
}

export async function createRun(db: PrismaClient | Tx, request: RunRequest, status: RunStatus = 'queued'): Promise<string> {
  const id = request.id ?? randomUUID();
  // ON CONFLICT: a re-delivered scheduled job (its run id is its job id) finds its run already there.
  await db.$executeRaw`
    INSERT INTO month_close_runs (id, period_start, trigger, force, dry_run, reissue, tenant_id, requested_by, reason, status)
    VALUES (${id}::uuid, ${request.period.start}::timestamptz, ${request.trigger}, ${request.force ?? false}, ${request.dryRun ?? false}, ${request.reissue ?? false},
            ${request.tenantId ?? null}::uuid, ${request.requestedBy}, ${request.reason ?? null}, ${status})
    ON CONFLICT (id) DO NOTHING`;
  return id;
}

/** Records a run and queues its job in one transaction. Returns null when an identical close is already queued or running. */
export async function enqueueRun(prisma: PrismaClient, boss: PgBoss, request: RunRequest, options: { singletonKey?: string } = {}): Promise<string | null> {
  const id = request.id ?? randomUUID();
  try {
    return await prisma.$transaction(async (tx) => {
      await createRun(tx, { ...request, id });
      const jobId = await boss.send(QUEUES.monthClose, { runId: id }, { id, singletonKey: options.singletonKey ?? id, db: fromPrisma(tx) });
      if (!jobId) throw new AlreadyQueued();
      await tx.$executeRaw`UPDATE month_close_runs SET job_id = ${jobId} WHERE id = ${id}::uuid`;
      return id;
    });
  } catch (error) {
    if (error instanceof AlreadyQueued) return null;
    throw error;
  }
}

class AlreadyQueued extends Error {}

export interface RunDeps {
  prisma: PrismaClient;
  now: Date;
  logger?: Logger;
  onProgress?: (progress: { done: number; total: number }) => void;
  /** Numbering and delivery of adjustment notes (with pg-boss, so their push is queued). */
  receivables?: ReceivablesSettings;
  /** Tenants per chunk (MONTH_CLOSE_CHUNK_SIZE). */
  chunkSize?: number;
  /** How often a running process stamps the run's heartbeat_at (tests shorten it). */
  heartbeatMs?: number;
}

/** A process executing a run stamps heartbeat_at this often; a run silent for HEARTBEAT_STALE is abandoned. */
export const HEARTBEAT_MS = 15_000;
export const HEARTBEAT_STALE_SECONDS = 90;

/** Stamps the run's heartbeat now and every `ms` until stopped (an unref'd timer: it never keeps a process alive). */
function startHeartbeat(prisma: PrismaClient, runId: string, ms: number, logger?: Logger): () => void {
  const beat = () =>
    prisma.$executeRaw`UPDATE month_close_runs SET heartbeat_at = now() WHERE id = ${runId}::uuid`.catch((error: unknown) =>
      logger?.warn({ err: error, runId }, 'month close heartbeat failed'),
    );
  void beat();
  const timer = setInterval(beat, ms);
  timer.unref();
  return () => clearInterval(timer);
}

function runOptions(run: RunRecord): MonthCloseOptions {
  return {
    runId: run.id,
    period: parsePeriod(run.period),
    force: run.force,
    dryRun: run.dryRun,
    reissue: run.reissue,
    tenantId: run.tenantId,
    reason: run.reason,
    requestedBy: run.requestedBy,
  };
}

export interface RunRecord {
  id: string;
  period: string;
  trigger: string;
  force: boolean;
  dryRun: boolean;
  reissue: boolean;
  tenantId: string | null;
  requestedBy: string;
  reason: string | null;
  status: RunStatus;
  jobId: string | null;
  summary: MonthCloseSummary | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export async function getRun(db: PrismaClient | Tx, id: string): Promise<RunRecord | null> {
  const run = await db.monthCloseRun.findUnique({ where: { id } });
  return run ? runRecord(run) : null;
}

/** A stored run as the code reads it. */
export function runRecord(run: MonthCloseRun): RunRecord {
  return {
    id: run.id,
    period: periodOf(run.periodStart).key,
    trigger: run.trigger,
    force: run.force,
    dryRun: run.dryRun,
    reissue: run.reissue,
    tenantId: run.tenantId,
    requestedBy: run.requestedBy,
    reason: run.reason,
    status: run.status as RunStatus,
    jobId: run.jobId,
    summary: run.summary as MonthCloseSummary | null,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

/**
 * Executes a recorded run. Safe to call twice for the same run (pg-boss may deliver a job twice):
 * a finished run returns its summary, and the close itself is idempotent per tenant.
 */
export async function executeRun(deps: RunDeps, runId: string): Promise<MonthCloseSummary> {
  const run = await getRun(deps.prisma, runId);
  if (!run) throw new NotFoundError('month_close_run');
  if ((run.status === 'completed' || run.status === 'completed_with_failures') && run.summary) return run.summary;

  await deps.prisma.monthCloseRun.update({ where: { id: runId }, data: { status: 'running', startedAt: deps.now, error: null } });
  const stopTimer = monthCloseDuration.startTimer();
  // A process killed mid-run stops beating: the catch-up sees the stale heartbeat and finishes the month.
  const stopHeartbeat = startHeartbeat(deps.prisma, runId, deps.heartbeatMs ?? HEARTBEAT_MS, deps.logger);
  try {
    const summary = await closeMonth(
      {
        prisma: deps.prisma,
        now: deps.now,
        ...(deps.logger ? { logger: deps.logger } : {}),
        ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
        ...(deps.receivables ? { receivables: deps.receivables } : {}),
        ...(deps.chunkSize ? { chunkSize: deps.chunkSize } : {}),
      },
      runOptions(run),
    );
    await deps.prisma.monthCloseRun.update({
      where: { id: runId },
      data: { status: summary.failed > 0 ? 'completed_with_failures' : 'completed', summary: summary as object, finishedAt: new Date() },
    });
    stopTimer();
    countRun(summary);
    return summary;
  } catch (error) {
    stopTimer();
    monthCloseRuns.inc({ outcome: 'failed' });
    await deps.prisma.monthCloseRun.update({ where: { id: runId }, data: { status: 'failed', error: (error as Error).message, finishedAt: new Date() } });
    throw error;
  } finally {
    stopHeartbeat();
  }
}

export type PlanResult = { runId: string; chunks: number; summary: MonthCloseSummary | null };

/**
 * The queue's way to execute a run: list its tenants, cut them into chunks and, in ONE transaction,
 * record the chunk plan and queue one `month-close-chunk` job per chunk (fromPrisma). Any number of
 * worker processes then share the close. Safe to call twice: a planned run is not planned again.
 */
export async function planRun(deps: RunDeps & { boss: PgBoss }, runId: string): Promise<PlanResult> {
  const run = await getRun(deps.prisma, runId);
  if (!run) throw new NotFoundError('month_close_run');
  // A failed run is planned again when pg-boss retries its job (the failure may have been transient).
  if ((run.status === 'completed' || run.status === 'completed_with_failures') && run.summary) return { runId, chunks: 0, summary: run.summary };
  const planned = await deps.prisma.monthCloseChunk.count({ where: { runId } });
  if (planned > 0) return { runId, chunks: planned, summary: null };

  const options = runOptions(run);
  let plan: MonthCloseSummary;
  let tenantIds: string[];
  try {
    await checkCloseOptions(deps.prisma, deps.now, options);
    plan = emptySummary(options);
    tenantIds = await tenantsToClose(deps.prisma, options);
    plan.tenants = tenantIds.length;
    await addLateUsage(deps.prisma, options, plan);
  } catch (error) {
    await deps.prisma.monthCloseRun.update({ where: { id: runId }, data: { status: 'failed', error: (error as Error).message, finishedAt: new Date() } });
    throw error;
  }
  const size = deps.chunkSize ?? 500;
  const chunks = Array.from({ length: Math.ceil(tenantIds.length / size) }, (_, i) => tenantIds.slice(i * size, (i + 1) * size));

  return deps.prisma.$transaction(
    async (tx) => {
      // Two deliveries of the same run plan it once: the second waits here and finds the plan.
      const [locked] = await tx.$queryRaw<{ plan: unknown }[]>`SELECT plan FROM month_close_runs WHERE id = ${runId}::uuid FOR UPDATE`;
      if (locked?.plan) return { runId, chunks: await tx.monthCloseChunk.count({ where: { runId } }), summary: null };
      await tx.$executeRaw`
        UPDATE month_close_runs SET status = 'running', started_at = ${deps.now}::timestamptz, heartbeat_at = now(), error = NULL, plan = ${JSON.stringify(plan)}::jsonb
         WHERE id = ${runId}::uuid`;
      if (chunks.length === 0) {
        const summary = finishSummary(plan);
        await completeRun(tx, runId, summary);
        return { runId, chunks: 0, summary };
      }
      await tx.monthCloseChunk.createMany({ data: chunks.map((ids, i) => ({ runId, chunkNo: i + 1, tenantIds: ids })) });
      const jobs = chunks.map((_, i) => ({ data: { runId, chunkNo: i + 1 }, singletonKey: `${runId}:${i + 1}` }));
      await deps.boss.insert(QUEUES.monthCloseChunk, jobs, { db: fromPrisma(tx) });
      return { runId, chunks: chunks.length, summary: null };
    },
    { timeout: 60_000, maxWait: 30_000 },
  );
}

async function completeRun(db: PrismaClient | Tx, runId: string, summary: MonthCloseSummary): Promise<void> {
  await db.$executeRaw`
    UPDATE month_close_runs SET status = ${summary.failed > 0 ? 'completed_with_failures' : 'completed'}, summary = ${JSON.stringify(summary)}::jsonb,
           finished_at = now(), heartbeat_at = now()
     WHERE id = ${runId}::uuid`;
  countRun(summary);
}

/** The run's outcome and its invoices by result, for /metrics. */
function countRun(summary: MonthCloseSummary): void {
  monthCloseRuns.inc({ outcome: summary.failed > 0 ? 'completed_with_failures' : 'completed' });
  for (const result of ['created', 'skipped', 'regenerated', 'unchanged', 'adjusted', 'reissued', 'failed'] as const) {
    if (summary[result] > 0) monthCloseInvoices.inc({ result }, summary[result]);
  }
}

/**
 * One chunk job: writes the chunk's tenants (one set-based transaction, tenant by tenant if that
 * fails) and records the chunk's outcomes in the same commit. Then, under a lock on the run row,
 * the last chunk to finish adds every chunk's outcomes into the run's summary. A re-delivered
 * chunk finds itself recorded and only re-checks whether the run is complete.
 */
export async function executeChunk(deps: RunDeps, runId: string, chunkNo: number): Promise<{ status: 'written' | 'already_done'; runStatus: RunStatus }> {
  const run = await getRun(deps.prisma, runId);
  if (!run) throw new NotFoundError('month_close_run');
  const chunk = await deps.prisma.monthCloseChunk.findUnique({ where: { runId_chunkNo: { runId, chunkNo } } });
  if (!chunk) throw new NotFoundError('month_close_chunk');
  let status: 'written' | 'already_done' = 'already_done';
  if (chunk.status !== 'done') {
    await deps.prisma.monthCloseChunk.update({ where: { runId_chunkNo: { runId, chunkNo } }, data: { attempts: { increment: 1 } } });
    const stopHeartbeat = startHeartbeat(deps.prisma, runId, deps.heartbeatMs ?? HEARTBEAT_MS, deps.logger);
    try {
      const record = (sql: Sql, outcomes: ChunkOutcomes) => recordChunk(sql, runId, chunkNo, outcomes);
      await closeChunk(
        { prisma: deps.prisma, now: deps.now, ...(deps.logger ? { logger: deps.logger } : {}), ...(deps.receivables ? { receivables: deps.receivables } : {}) },
        runOptions(run),
        chunk.tenantIds,
        record,
      );
      status = 'written';
    } catch (error) {
      if (!(error instanceof ChunkAlreadyRecorded)) throw error;
    } finally {
      stopHeartbeat();
    }
  }
  return { status, runStatus: await finishRunIfComplete(deps.prisma, runId) };
}

/**
 * A chunk whose job failed on its last retry (the database kept refusing it, say): its tenants are
 * recorded as failed with the reason, so the run still completes (with failures, naming them)
 * instead of staying `running`, and a forced re-run or the next close picks them up.
 */
export async function failChunk(prisma: PrismaClient, runId: string, chunkNo: number, error: Error): Promise<RunStatus> {
  const chunk = await prisma.monthCloseChunk.findUnique({ where: { runId_chunkNo: { runId, chunkNo } } });
  if (!chunk) throw new NotFoundError('month_close_chunk');
  if (chunk.status !== 'done') {
    const tenants = await prisma.tenant.findMany({ where: { id: { in: chunk.tenantIds } }, select: { id: true, slug: true } });
    const slugs = new Map(tenants.map((t) => [t.id, t.slug]));
    const outcomes: ChunkOutcomes = {
      ...emptyOutcomes(false),
      failed: chunk.tenantIds.length,
      failures: chunk.tenantIds.map((id) => ({ tenant_id: id, tenant_slug: slugs.get(id) ?? null, error: `chunk ${chunkNo} failed on its last retry: ${error.message}` })),
    };
    await recordChunk(sqlOf(prisma), runId, chunkNo, outcomes);
  }
  return finishRunIfComplete(prisma, runId);
}

/** Marks a chunk done with its outcomes; false when another delivery already did. */
async function recordChunk(sql: Sql, runId: string, chunkNo: number, outcomes: ChunkOutcomes): Promise<boolean> {
  const updated = await sql.execute(Prisma.sql`
    UPDATE month_close_chunks SET status = 'done', summary = ${JSON.stringify(outcomes)}::jsonb, finished_at = now()
     WHERE run_id = ${runId}::uuid AND chunk_no = ${chunkNo} AND status <> 'done'`);
  return updated === 1;
}

/** Under a lock on the run row: when every chunk is done, the run's summary is the plan plus every chunk's outcomes. */
export async function finishRunIfComplete(prisma: PrismaClient, runId: string): Promise<RunStatus> {
  const finished = await prisma.$transaction(async (tx): Promise<{ status: RunStatus; summary?: MonthCloseSummary }> => {
    const [run] = await tx.$queryRaw<{ status: RunStatus; plan: MonthCloseSummary | null }[]>`
      SELECT status, plan FROM month_close_runs WHERE id = ${runId}::uuid FOR UPDATE`;
    if (!run) throw new NotFoundError('month_close_run');
    if (run.status !== 'running' || !run.plan) return { status: run.status };
    const chunks = await tx.monthCloseChunk.findMany({ where: { runId }, orderBy: { chunkNo: 'asc' }, select: { status: true, summary: true } });
    if (chunks.some((c) => c.status !== 'done')) return { status: run.status };
    const summary = run.plan;
    for (const c of chunks) addOutcomes(summary, c.summary as unknown as ChunkOutcomes);
    finishSummary(summary);
    await completeRun(tx, runId, summary);
    return { status: summary.failed > 0 ? 'completed_with_failures' : 'completed', summary };
  });
  // The chunk that completed the run refreshes the statistics, once, after its transaction.
  if (finished.summary) await refreshWrittenStatistics(prisma, finished.summary);
  return finished.status;
}

/**
 * Months (before `now`'s month, `lookbackMonths` back) with no completed full close. pg-boss drops
 * a cron tick that fired while no worker ran, so this is what guarantees every month is closed.
 */
export async function unclosedPeriods(db: PrismaClient | Tx, now: Date, lookbackMonths: number): Promise<Period[]> {
  const current = periodOf(now);
  const candidates = Array.from({ length: lookbackMonths }, (_, i) => periodOf(subMonths(current.start, i + 1, { in: utc }))).reverse();
  // A run in progress covers its month while its heartbeat is fresh (a CLI or a chunk worker stamps
  // it every 15 s); a queued run not started yet (no heartbeat) covers it for two hours.
  const staleBefore = new Date(now.getTime() - 2 * 3600_000);
  const rows = await db.$queryRaw<{ period_start: Date }[]>`
    SELECT DISTINCT period_start FROM month_close_runs
     WHERE period_start = ANY(${candidates.map((p) => p.start)}::timestamptz[])
       AND dry_run = false AND tenant_id IS NULL
       AND (status = 'completed'
            OR (status IN ('queued', 'running') AND heartbeat_at > now() - make_interval(secs => ${HEARTBEAT_STALE_SECONDS}))
            OR (status IN ('queued', 'running') AND heartbeat_at IS NULL AND created_at > ${staleBefore}::timestamptz))`;
  const covered = new Set(rows.map((r) => r.period_start.getTime()));
  return candidates.filter((p) => !covered.has(p.start.getTime()));
}

export async function catchUpMonthCloses(deps: { prisma: PrismaClient; boss: PgBoss; now: Date; logger?: Logger }, lookbackMonths = 3): Promise<string[]> {
  const queued: string[] = [];
  for (const period of await unclosedPeriods(deps.prisma, deps.now, lookbackMonths)) {
    const id = await enqueueRun(deps.prisma, deps.boss, { period, trigger: 'catch_up', requestedBy: 'system:catch-up' }, { singletonKey: `close:${period.key}` });
    if (id) {
      queued.push(period.key);
      deps.logger?.info({ period: period.key, runId: id }, 'queued a month close that never ran');
    }
  }
  return queued;
}
