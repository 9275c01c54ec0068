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
    max: 5,
  });
  boss.on('error', (error) => options.logger.error({ err: error }, 'pg-boss error'));
  await boss.start();
  return boss;
}
