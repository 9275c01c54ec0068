// A month close run is the record of one close: who asked, with which options, and its summary.
// Runs are queued in the same transaction that records them (pg-boss fromPrisma), so a rollback
// never leaves a job pointing at nothing; the job id IS the run id.
import { randomUUID } from 'node:crypto';
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { subMonths } from 'date-fns';
import { utc } from '@date-fns/utc';
import type { PrismaClient, Tx } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { QUEUES } from '../../jobs/catalog.ts';
import { closeMonth, type MonthCloseSummary } from './month-close.ts';
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
  if (!run) return null;
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
  try {
    const summary = await closeMonth(
      {
        prisma: deps.prisma,
        now: deps.now,
        ...(deps.logger ? { logger: deps.logger } : {}),
        ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
        ...(deps.receivables ? { receivables: deps.receivables } : {}),
      },
      {
        runId,
        period: parsePeriod(run.period),
        force: run.force,
        dryRun: run.dryRun,
        reissue: run.reissue,
        tenantId: run.tenantId,
        reason: run.reason,
        requestedBy: run.requestedBy,
      },
    );
    await deps.prisma.monthCloseRun.update({
      where: { id: runId },
      data: { status: summary.failed > 0 ? 'completed_with_failures' : 'completed', summary: summary as object, finishedAt: new Date() },
    });
    stopTimer();
    monthCloseRuns.inc({ outcome: summary.failed > 0 ? 'completed_with_failures' : 'completed' });
    for (const result of ['created', 'skipped', 'regenerated', 'unchanged', 'adjusted', 'reissued', 'failed'] as const) {
      if (summary[result] > 0) monthCloseInvoices.inc({ result }, summary[result]);
    }
    return summary;
  } catch (error) {
    stopTimer();
    monthCloseRuns.inc({ outcome: 'failed' });
    await deps.prisma.monthCloseRun.update({ where: { id: runId }, data: { status: 'failed', error: (error as Error).message, finishedAt: new Date() } });
    throw error;
  }
}

/**
 * Months (before `now`'s month, `lookbackMonths` back) with no completed full close. pg-boss drops
 * a cron tick that fired while no worker ran, so this is what guarantees every month is closed.
 */
export async function unclosedPeriods(db: PrismaClient | Tx, now: Date, lookbackMonths: number): Promise<Period[]> {
  const current = periodOf(now);
  const candidates = Array.from({ length: lookbackMonths }, (_, i) => periodOf(subMonths(current.start, i + 1, { in: utc }))).reverse();
  const staleBefore = new Date(now.getTime() - 2 * 3600_000);
  const rows = await db.$queryRaw<{ period_start: Date }[]>`
    SELECT DISTINCT period_start FROM month_close_runs
     WHERE period_start = ANY(${candidates.map((p) => p.start)}::timestamptz[])
       AND dry_run = false AND tenant_id IS NULL
       AND (status = 'completed' OR (status IN ('queued', 'running') AND created_at > ${staleBefore}::timestamptz))`;
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
