// month-close-chunk: writes one chunk of a planned close; the last chunk to finish completes the run.
import type { JobWithMetadata } from 'pg-boss';
import { z } from 'zod';
import { executeChunk, failChunk } from '../src/invoicing/month-close-runs.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
import type { JobDeps } from './worker.ts';

export const monthCloseChunkPayload = z.object({ runId: z.uuid(), chunkNo: z.number().int().min(1) });

export async function handleMonthCloseChunk(deps: JobDeps, job: JobWithMetadata<unknown>) {
  const { runId, chunkNo } = monthCloseChunkPayload.parse(job.data);
  let result;
  try {
    result = await executeChunk(
      { prisma: deps.prisma, now: deps.now(), logger: deps.logger.child({ runId, chunkNo }), receivables: receivablesSettings(deps.config, deps.boss) },
      runId,
      chunkNo,
    );
  } catch (error) {
    // Retries left: pg-boss tries again. The last one: the chunk's tenants fail by name and the run completes.
    if (job.retryCount < job.retryLimit) throw error;
    deps.logger.error({ err: error, runId, chunkNo }, 'month close chunk failed on its last retry');
    result = { status: 'failed' as const, runStatus: await failChunk(deps.prisma, runId, chunkNo, error as Error) };
  }
  if (result.runStatus !== 'running') deps.logger.info({ runId, status: result.runStatus }, 'month close finished');
  return { runId, chunkNo, ...result };
}
