// A worker process for the tests and benchmarks that need more than one (node
// scripts/lib/worker-process.ts): the real startWorkers against DATABASE_URL, with pg-boss's
// supervisor on (it fails jobs whose heartbeat stopped), without schedules or the start-up
// catch-up. WORKER_NOW fixes the clock. Prints "ready" once its workers poll; stops on SIGTERM
// (a test kills it with SIGKILL).
import { pino } from 'pino';
import { startWorkers } from '../../jobs/worker.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createPrisma } from '../../src/platform/database.ts';
import { startBoss } from '../../src/platform/queue.ts';

const config = loadConfig(process.env);
const logger = pino({ level: 'silent' });
const prisma = createPrisma(config.DATABASE_URL!);
const boss = await startBoss({ url: config.DATABASE_URL!, logger, schedule: false, supervise: true });
await startWorkers({ prisma, boss, config, logger, now: () => new Date(process.env.WORKER_NOW ?? Date.now()) }, { catchUpOnStart: false, pollingIntervalSeconds: 0.5 });
console.log('ready');
process.on('SIGTERM', () => {
  void boss.stop({ graceful: false, close: true }).then(() => prisma.$disconnect()).then(() => process.exit(0));
});
