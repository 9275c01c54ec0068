// Registers every handler and schedule. Handlers are thin: parse the payload, call one use case.
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../src/platform/config.ts';
import type { PrismaClient } from '../src/platform/database.ts';
import { createQueues, QUEUES } from './catalog.ts';
import { handleMonthClose } from './month-close.ts';
import { handleMonthCloseCatchUp } from './month-close-catch-up.ts';

export interface JobDeps {
  prisma: PrismaClient;
  boss: PgBoss;
  config: Config;
  logger: Logger;
  now: () => Date;
}

export async function startWorkers(deps: JobDeps, options: { catchUpOnStart?: boolean } = {}): Promise<void> {
  await createQueues(deps.boss);
  const log = deps.logger.child({ component: 'worker' });

  await deps.boss.work(QUEUES.monthClose, { includeMetadata: true, batchSize: 1, localConcurrency: deps.config.WORKER_CONCURRENCY }, async ([job]) => {
    if (!job) return;
    return handleMonthClose({ ...deps, logger: log }, job);
  });
  await deps.boss.work(QUEUES.monthCloseCatchUp, { batchSize: 1 }, async () => handleMonthCloseCatchUp({ ...deps, logger: log }));

  // missed: 'once' sends the latest tick that came due while no scheduler ran; the catch-up job
  // covers anything older.
  await deps.boss.schedule(QUEUES.monthClose, deps.config.MONTH_CLOSE_CRON, { trigger: 'schedule' }, { tz: 'UTC', missed: 'once' });
  await deps.boss.schedule(QUEUES.monthCloseCatchUp, deps.config.MONTH_CLOSE_CATCH_UP_CRON, {}, { tz: 'UTC', missed: 'once' });

  if (options.catchUpOnStart ?? true) {
    await deps.boss.send(QUEUES.monthCloseCatchUp, { reason: 'worker start-up' }, { singletonKey: 'start-up' });
  }
  log.info('workers started');
}
