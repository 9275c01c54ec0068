// month-close-catch-up: runs at worker start-up and daily; queues a close for any recent month
// that has none (pg-boss does not replay a cron tick that fired while no worker was running).
import { catchUpMonthCloses } from '../src/invoicing/month-close-runs.ts';
import type { JobDeps } from './worker.ts';

export const CATCH_UP_LOOKBACK_MONTHS = 3;

export async function handleMonthCloseCatchUp(deps: JobDeps) {
  const queued = await catchUpMonthCloses({ prisma: deps.prisma, boss: deps.boss, now: deps.now(), logger: deps.logger }, CATCH_UP_LOOKBACK_MONTHS);
  return { queued };
}
