// The processes as an operator runs them: `npm run worker` / `npm start` stopped by a signal sent to
// the process that was started (npm's pid, as a process manager does), configuration refused at
// start-up, and the embedded PostgreSQL refusing a port another cluster answers on.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/platform/config.ts';
import { startEmbeddedPostgres } from '../../src/platform/embedded-postgres.ts';
import { serverVersionProblem } from '../../src/platform/migrate.ts';
import { useTestDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';

const db = useTestDatabase();

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function npmRun(script: string, env: Record<string, string | undefined>, options: { detached?: boolean } = {}): Started {
  const child = spawn('npm', ['run', script], {
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The descendants of a pid, from /proc (npm → node; no shell in between since the scripts `exec`). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('signals sent to the process npm started', () => {
  for (const [script, signal] of [
    ['worker', 'SIGTERM'],
    ['start', 'SIGTERM'],
    ['api', 'SIGINT'],
  ] as const) {
    it(`npm run ${script}: ${signal} to npm's pid shuts node down gracefully, nothing left listening`, { timeout: 60_000 }, async () => {
      const port = await freePort();
      const run = npmRun(script, { DATABASE_URL: db().url, PORT: String(port) });
      try {
        await waitFor(async () => /"msg":"started"/.test(run.output()), `npm run ${script} to start`, 40_000);
        const nodes = descendants(run.child.pid!);
        expect(nodes.length).toBeGreaterThan(0);
        if (script !== 'worker') expect(await listening(port)).toBe(true);

        run.child.kill(signal); // to npm, not to its process group
        await run.exited;
        await waitFor(async () => nodes.every((pid) => !alive(pid)), 'node to exit', 20_000);
        expect(run.output()).toMatch(new RegExp(`"reason":"${signal}","msg":"shutting down"`));
        expect(await listening(port)).toBe(false);
      } finally {
        for (const pid of descendants(run.child.pid!)) process.kill(pid, 'SIGKILL');
        run.child.kill('SIGKILL');
      }
    });
  }
});

describe('the embedded PostgreSQL and Ctrl-C', () => {
  it('a SIGINT to the whole process group (a terminal Ctrl-C) does not reach the database; our shutdown stops it last', { timeout: 90_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'embedded-ctrl-c-'));
    await chmod(dir, 0o755); // run as root, PostgreSQL runs as the 'postgres' user and must reach its folder
    const port = await freePort();
    // detached: npm leads its own process group, as a shell's foreground job does.
    const run = npmRun('worker', { DATABASE_URL: undefined, EMBEDDED_PG_PORT: String(port), EMBEDDED_PG_DIR: join(dir, 'pg') }, { detached: true });
    try {
      await waitFor(async () => /"msg":"workers started"/.test(run.output()), 'the worker on an embedded database', 80_000).catch((error: Error) => {
        throw new Error(`${error.message}; its output:\n${run.output()}`);
      });
      const postgres = descendants(run.child.pid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres'));
      expect(postgres.length).toBeGreaterThan(0);
      for (const pid of postgres) expect(processGroup(pid)).not.toBe(run.child.pid);

      process.kill(-run.child.pid!, 'SIGINT'); // the terminal's Ctrl-C: every process in the group
      await run.exited;
      await waitFor(async () => descendants(run.child.pid!).length === 0 && postgres.every((pid) => !alive(pid)), 'everything to exit', 30_000);
      const log = readFileSync(join(dir, 'pg.log'), 'utf8');
      // The database saw exactly one shutdown request, our fast shutdown after the worker stopped,
      // and no connection was cut under the worker.
      expect(log).toMatch(/received fast shutdown request/);
      expect(run.output()).not.toMatch(/terminating connection due to administrator command/);
      expect(run.output()).not.toMatch(/"level":50/);
    } finally {
      try {
        process.kill(-run.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up refusals', () => {
  it('prints one line per bad variable, a bad cron expression named, and exits 1 without a stack', { timeout: 30_000 }, async () => {
    const run = npmRun('worker', { DATABASE_URL: db().url, MONTH_CLOSE_CRON: '0 3 32 * *', MONTH_CLOSE_CATCH_UP_CRON: 'every day', PORT: 'x' });
    expect(await run.exited).toBe(1);
    const lines = run.output().split('\n').filter((l) => l.startsWith('invalid configuration:'));
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.includes('MONTH_CLOSE_CRON:'))).toMatch(/not a valid cron expression "0 3 32 \* \*"/);
    expect(lines.find((l) => l.includes('MONTH_CLOSE_CATCH_UP_CRON:'))).toMatch(/every day/);
    expect(run.output()).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('validates every cron variable with the parser pg-boss schedules with', () => {
    expect(() => loadConfig({ MONTH_CLOSE_CRON: '0 3 1 * *', MONTH_CLOSE_CATCH_UP_CRON: '*/15 * * * *' })).not.toThrow();
    const error = (() => {
      try {
        loadConfig({ MONTH_CLOSE_CATCH_UP_CRON: '61 * * * *' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['MONTH_CLOSE_CATCH_UP_CRON']);
  });

  it('states the minimum PostgreSQL version', () => {
    expect(serverVersionProblem(120017, '12.17')).toBe('PostgreSQL 13 or later is required; the database server runs 12.17');
    expect(serverVersionProblem(130000, '13.0')).toBeUndefined();
    expect(serverVersionProblem(180001, '18.1')).toBeUndefined();
  });

  it('the embedded database refuses a port where another cluster answers, naming EMBEDDED_PG_PORT', async () => {
    // The test server (embedded or DATABASE_URL's) is a cluster with another data directory than this fresh one.
    const port = Number(new URL(db().url).port || 5432);
    const dir = await mkdtemp(join(tmpdir(), 'other-cluster-'));
    try {
      await expect(startEmbeddedPostgres({ dir: join(dir, 'pg'), port, database: 'invoicing' })).rejects.toThrow(
        new RegExp(`^EMBEDDED_PG_PORT=${port}: another PostgreSQL answers on 127.0.0.1:${port}`),
      );
      expect(readdirSync(dir)).toEqual([]); // nothing initialised, nothing started
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('process footprint', () => {
  it("imports date-fns by function: its root module loads every function and locale (~190 MB of RSS in every process)", () => {
    const barrel = new RegExp(`from '${'date-fns'}'`); // spelled so this file does not match itself
    const offenders = ['src', 'jobs', 'scripts', 'test']
      .flatMap((dir) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)))
      .filter((file) => barrel.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
