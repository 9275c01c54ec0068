// receivable-push: delivers one outbox row (singletonKey = its id) to finance. Finance down
// throws, so pg-boss retries with backoff; on the last retry the row is marked failed with the
// reason before the job goes to the dead letters. A delivered row is never sent again.
import type { JobWithMetadata } from 'pg-boss';
import { z } from 'zod';
import { deliverReceivable } from '../src/receivables/deliver.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
import type { JobDeps } from './worker.ts';

export const receivablePushPayload = z.object({ deliveryId: z.uuid() });

export async function handleReceivablePush(deps: JobDeps, job: JobWithMetadata<unknown>) {
  const { deliveryId } = receivablePushPayload.parse(job.data ?? {});
  const outcome = await deliverReceivable(
    { prisma: deps.prisma, finance: receivablesSettings(deps.config).finance, now: deps.now, logger: deps.logger },
    deliveryId,
    { finalAttempt: job.retryCount >= job.retryLimit },
  );
  return { deliveryId, outcome };
}
