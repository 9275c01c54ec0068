// Process bootstrap shared by every entry point: configuration, database (embedded by default),
// migrations, Prisma, pg-boss, and a graceful shutdown on SIGINT/SIGTERM.
import type { Logger } from 'pino';
import { config as loadProcessConfig, type Config } from './config.ts';
import { createPrisma, resolveDatabase, type PrismaClient } from './database.ts';
import { logger as rootLogger } from './logger.ts';
import { migrate } from './migrate.ts';
import { startBoss, type PgBoss } from './queue.ts';
import { StartupError } from './errors.ts';

/**
 * An entry point's answer to a start-up failure: a StartupError (bad configuration, another
 * cluster on the embedded port, too old a server) is printed as its message alone, exit 1.
 * Anything else is a bug and keeps its stack.
 */
export function exitOnStartupError(error: unknown): never {
  if (error instanceof StartupError) console.error(error.message);
  else console.error(error);
  process.exit(1);
}

export interface Runtime {
  config: Config;
  logger: Logger;
  databaseUrl: string;
  prisma: PrismaClient;
  /** Registers cleanup run on shutdown, last registered first. */
  onShutdown(fn: () => Promise<void>): void;
  shutdown(exitCode?: number): Promise<void>;
}

export interface StartRuntimeOptions {
  migrate?: boolean;
  handleSignals?: boolean;
  /** Where logs go when LOG_LEVEL is not set (a CLI with human output keeps its terminal clean). */
  logFile?: string;
}

export async function startRuntime(options: StartRuntimeOptions = {}): Promise<Runtime> {
  let config: Config;
  let database: Awaited<ReturnType<typeof resolveDatabase>>;
  try {
    config = loadProcessConfig();
    database = await resolveDatabase(config);
  } catch (error) {
    exitOnStartupError(error);
  }
  const logger = rootLogger(options.logFile && process.env.LOG_LEVEL === undefined ? { file: options.logFile } : {});
  const cleanups: (() => Promise<void>)[] = [async () => database.release()];
  try {
    if (options.migrate ?? true) {
      const result = await migrate(database.url);
      if (result.applied.length > 0) logger.info({ applied: result.applied }, 'migrations applied');
    }
  } catch (error) {
    await database.release();
    exitOnStartupError(error);
  }
  const prisma = createPrisma(database.url, { onIdleError: (error) => logger.warn({ err: error }, 'an idle database connection was closed by the server') });
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
    let signalled = false;
    const stop = (reason: string) => {
      // `on`, not `once`: Ctrl-C through npm delivers SIGINT twice (the terminal's and npm's
      // forwarded one), and a second signal with no listener would kill us mid-shutdown.
      if (signalled) return void logger.info({ reason }, 'already shutting down');
      signalled = true;
      logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error('shutdown timed out; exiting');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS + 5000);
      timer.unref();
      void runtime.shutdown(0);
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));
    watchParent(() => stop('parent process exited'));
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

/**
 * When the process that started us (npm, a shell) dies without passing its signal on, we are
 * re-parented: shut down rather than run on orphaned. Under systemd or as a container's PID 1
 * (`exec node ...`) the parent never changes and this never fires.
 */
function watchParent(onOrphaned: () => void): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, 1000);
  timer.unref();
}
