// month-close: plans one recorded run: lists its tenants and queues one month-close-chunk job per
// chunk (in the transaction that records the plan), so every worker process shares the close. The
// monthly cron tick arrives without a run: it closes the month before the tick, recording a run
// whose id is the job id (so a re-delivery reuses it).
import type { JobWithMetadata } from 'pg-boss';
import { z } from 'zod';
import { createRun, planRun } from '../src/invoicing/month-close-runs.ts';
import { previousPeriod } from '../src/invoicing/period.ts';
import type { JobDeps } from './worker.ts';

export const monthClosePayload = z.object({
  runId: z.uuid().optional(),
  trigger: z.literal('schedule').optional(),
});

export async function handleMonthClose(deps: JobDeps, job: JobWithMetadata<unknown>) {
  const payload = monthClosePayload.parse(job.data ?? {});
  const runId = payload.runId ?? job.id;
  if (!payload.runId) {
    await createRun(deps.prisma, { id: runId, period: previousPeriod(job.createdOn), trigger: 'schedule', requestedBy: 'system:schedule' });
  }
  const planned = await planRun({ prisma: deps.prisma, boss: deps.boss, now: deps.now(), logger: deps.logger.child({ runId }), chunkSize: deps.config.MONTH_CLOSE_CHUNK_SIZE }, runId);
  deps.logger.info({ runId, chunks: planned.chunks }, 'month close planned');
  return { runId, chunks: planned.chunks, ...(planned.summary ? { period: planned.summary.period, created: planned.summary.created, failed: planned.summary.failed } : {}) };
}
