// Process bootstrap shared by every entry point: configuration, database (embedded by default),
// migrations, Prisma, pg-boss, and a graceful shutdown on SIGINT/SIGTERM.
import type { Logger } from 'pino';
import { config as loadProcessConfig, type Config } from './config.ts';
import { createPrisma, resolveDatabase, type PrismaClient } from './database.ts';
import { logger as rootLogger } from './logger.ts';
import { migrate } from './migrate.ts';
import { startBoss, type PgBoss } from './queue.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  databaseUrl: string;
  prisma: PrismaClient;
  /** Registers cleanup run on shutdown, last registered first. */
  onShutdown(fn: () => Promise<void>): void;
  shutdown(exitCode?: number): Promise<void>;
}

export async function startRuntime(options: { migrate?: boolean; handleSignals?: boolean } = {}): Promise<Runtime> {
  const config = loadProcessConfig();
  const logger = rootLogger();
  const database = await resolveDatabase(config);
  const cleanups: (() => Promise<void>)[] = [async () => database.release()];
  try {
    if (options.migrate ?? true) {
      const result = await migrate(database.url);
      if (result.applied.length > 0) logger.info({ applied: result.applied }, 'migrations applied');
    }
  } catch (error) {
    await database.release();
    throw error;
  }
  const prisma = createPrisma(database.url);
  cleanups.push(async () => prisma.$disconnect());

  let stopping: Promise<void> | undefined;
  const runtime: Runtime = {
    config,
    logger,
    databaseUrl: database.url,
    prisma,
    onShutdown: (fn) => void cleanups.push(fn),
    shutdown(exitCode) {
      stopping ??= (async () => {
        for (const fn of [...cleanups].reverse()) {
          try {
            await fn();
          } catch (error) {
            logger.error({ err: error }, 'error during shutdown');
          }
        }
      })();
      return stopping.then(() => {
        if (exitCode !== undefined) process.exit(exitCode);
      });
    },
  };
  if (options.handleSignals ?? true) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down');
        const timer = setTimeout(() => {
          logger.error('shutdown timed out; exiting');
          process.exit(1);
        }, config.SHUTDOWN_TIMEOUT_MS + 5000);
        timer.unref();
        void runtime.shutdown(0);
      });
    }
  }
  return runtime;
}

/** Starts pg-boss for this process and stops it gracefully (in-flight jobs finish or are released) on shutdown. */
export async function attachBoss(runtime: Runtime, options: { worker: boolean }): Promise<PgBoss> {
  const boss = await startBoss({ url: runtime.databaseUrl, logger: runtime.logger, schedule: options.worker, supervise: options.worker });
  runtime.onShutdown(async () => {
    await boss.stop({ graceful: true, timeout: runtime.config.SHUTDOWN_TIMEOUT_MS, close: true });
  });
  return boss;
}
