// Dead letters: jobs that exhausted their retries, kept by pg-boss in the dead-letters queue with
// their original queue, id, payload and last error. A redrive re-sends the original payload to its
// original queue (pg-boss redrive moves the row, so a second redrive finds nothing: `unchanged`);
// every handler is idempotent, so running a job again is safe.
import type { PgBoss } from 'pg-boss';
import { DEAD_LETTER_QUEUE } from '../../jobs/catalog.ts';

export interface DeadLetter {
  id: string;
  queue: string | null;
  original_job_id: string | null;
  data: unknown;
  error: unknown;
  retries: number | null;
  dead_lettered_at: string;
  first_created_at: string | null;
}

export async function listDeadLetters(boss: PgBoss, query: { queue?: string | undefined; limit: number }): Promise<{ data: DeadLetter[]; total: number }> {
  const jobs = (await boss.findJobs(DEAD_LETTER_QUEUE, { queued: true }))
    .filter((job) => !query.queue || job.sourceName === query.queue)
    .sort((a, b) => b.createdOn.getTime() - a.createdOn.getTime() || b.id.localeCompare(a.id));
  return {
    total: jobs.length,
    data: jobs.slice(0, query.limit).map((job) => ({
      id: job.id,
      queue: job.sourceName,
      original_job_id: job.sourceId,
      data: job.data,
      error: job.sourceOutput,
      retries: job.sourceRetryCount,
      dead_lettered_at: job.createdOn.toISOString(),
      first_created_at: job.sourceCreatedOn?.toISOString() ?? null,
    })),
  };
}

export type RedriveOutcome = { status: 'redriven'; count: number } | { status: 'unchanged'; count: 0 };

/** Re-sends one dead letter to the queue it failed on. */
export async function redriveDeadLetter(boss: PgBoss, id: string): Promise<RedriveOutcome> {
  const count = await boss.redrive(DEAD_LETTER_QUEUE, { ids: [id] });
  return count > 0 ? { status: 'redriven', count } : { status: 'unchanged', count: 0 };
}

/** Re-sends every dead letter that failed on `queue`, in batches of 1,000. */
export async function redriveQueue(boss: PgBoss, queue: string): Promise<RedriveOutcome> {
  // Only those dead-lettered before we started: a job failing again meanwhile is not swept back in.
  const createdBefore = new Date();
  let total = 0;
  for (;;) {
    const moved = await boss.redrive(DEAD_LETTER_QUEUE, { sourceName: queue, createdBefore, limit: 1000 });
    total += moved;
    if (moved < 1000) break;
  }
  return total > 0 ? { status: 'redriven', count: total } : { status: 'unchanged', count: 0 };
}
