// pg-boss, started once per process. Queues are created at start-up from the job catalog in jobs/.
import { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';

export { PgBoss };

export interface StartBossOptions {
  url: string;
  logger: Logger;
  /** Only processes that run workers need to run cron and maintenance. */
  schedule?: boolean;
  supervise?: boolean;
}

export async function startBoss(options: StartBossOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: options.url,
    schedule: options.schedule ?? false,
    supervise: options.supervise ?? false,
    // The supervisor's monitor pass fails jobs whose heartbeat stopped (a killed worker): run it
    // every 15 s, not the default 60, so a month-close chunk is retried well within a minute.
    superviseIntervalSeconds: 15,
    monitorIntervalSeconds: 15,
    max: 5,
  });
  boss.on('error', (error) => options.logger.error({ err: error }, 'pg-boss error'));
  await boss.start();
  return boss;
}
