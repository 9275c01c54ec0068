// month-close: executes one recorded run. The monthly cron tick arrives without a run: it closes
// the month before the tick, recording a run whose id is the job id (so a re-delivery reuses it).
import type { JobWithMetadata } from 'pg-boss';
import { z } from 'zod';
import { createRun, executeRun } from '../src/invoicing/month-close-runs.ts';
import { previousPeriod } from '../src/invoicing/period.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
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
  const summary = await executeRun({ prisma: deps.prisma, now: deps.now(), logger: deps.logger.child({ runId }), receivables: receivablesSettings(deps.config, deps.boss) }, runId);
  deps.logger.info(
    { runId, period: summary.period, created: summary.created, skipped: summary.skipped, regenerated: summary.regenerated, failed: summary.failed },
    'month close finished',
  );
  return { runId, period: summary.period, created: summary.created, skipped: summary.skipped, regenerated: summary.regenerated, unchanged: summary.unchanged, adjusted: summary.adjusted, failed: summary.failed };
}
