// npm start (API + workers), npm run api, npm run worker. Workers can run on several machines
// against one database: pg-boss hands each job to one of them, and every handler is idempotent.
import { buildApp } from '../src/http/app.ts';
import { allRoutes } from '../src/http/routes.ts';
import { attachBoss, startRuntime } from '../src/platform/runtime.ts';
import { startWorkers } from '../jobs/worker.ts';
import { createQueues } from '../jobs/catalog.ts';
import { startMetricsServer } from '../src/http/metrics.ts';

const role = process.argv[2] ?? 'all';
if (!['all', 'api', 'worker'].includes(role)) {
  console.error(`usage: start.ts [all|api|worker] (got ${role})`);
  process.exit(2);
}

const runtime = await startRuntime();
const { config, logger, prisma } = runtime;
try {
  const runsWorkers = role === 'all' || role === 'worker';
  const boss = await attachBoss(runtime, { worker: runsWorkers });
  await createQueues(boss);
  if (runsWorkers) await startWorkers({ prisma, boss, config, logger, now: () => new Date() });
  if (config.METRICS_PORT !== undefined) {
    const metrics = await startMetricsServer({ host: config.METRICS_HOST, port: config.METRICS_PORT, boss });
    runtime.onShutdown(async () => new Promise<void>((resolve) => metrics.close(() => resolve())));
    logger.info({ host: config.METRICS_HOST, port: config.METRICS_PORT }, 'metrics listening');
  }
  if (role === 'all' || role === 'api') {
    const app = await buildApp({ prisma, boss, config, logger }, allRoutes);
    runtime.onShutdown(async () => app.close()); // closes first: stop taking requests, then stop workers
    await app.listen({ host: config.HOST, port: config.PORT });
  }
  logger.info({ role }, 'started');
} catch (error) {
  logger.fatal({ err: error }, 'start-up failed');
  await runtime.shutdown(1);
}
