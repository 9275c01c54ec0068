// invoice-ingest: one provider invoice (singletonKey = its uuid). Fetches, parses and stores the
// CSV; a bad CSV throws, so the job retries and then dead-letters with the row and reason recorded.
import type { Job } from 'pg-boss';
import { z } from 'zod';
import { ingestInvoice } from '../src/costs/ingest-invoice.ts';
import type { JobDeps } from './worker.ts';

export const invoiceJobPayload = z.object({ invoiceUuid: z.string().trim().min(1).max(200) });

export async function handleInvoiceIngest(deps: JobDeps, job: Pick<Job<unknown>, 'data'>) {
  const { invoiceUuid } = invoiceJobPayload.parse(job.data ?? {});
  if (!deps.provider) {
    deps.logger.warn({ queue: 'invoice-ingest', invoiceUuid }, 'PROVIDER_TOKEN is not set: the cloud provider is not configured, nothing done');
    return { skipped: 'provider_not_configured' as const };
  }
  const outcome = await ingestInvoice({ prisma: deps.prisma, boss: deps.boss, provider: deps.provider, now: deps.now(), logger: deps.logger }, { invoiceUuid });
  return {
    invoiceUuid,
    status: outcome.status,
    lines: outcome.lineCount,
    matched: outcome.matchedCount,
    amountMismatch: outcome.amountMismatch,
    pushQueued: outcome.pushQueued,
  };
}
