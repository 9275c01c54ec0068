import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, type Prisma as PrismaNamespace } from '../generated/prisma/client.ts';
import { copyRows } from './copy.ts';
import type { Config } from './config.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export { PrismaClient };
export type { Prisma } from '../generated/prisma/client.ts';

/** A client or an interactive transaction: repositories accept either so callers own the transaction. */
export type Db = PrismaClient | Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
type PrismaSql = PrismaNamespace.Sql;
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export interface DatabaseHandle {
  url: string;
  /** Stops the embedded server when this process started it; a no-op otherwise. */
  release(): Promise<void>;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL under EMBEDDED_PG_DIR. */
export async function resolveDatabase(config: Config): Promise<DatabaseHandle> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, release: async () => {} };
  const embedded = await startEmbeddedPostgres({
    dir: config.EMBEDDED_PG_DIR,
    port: config.EMBEDDED_PG_PORT,
    database: 'invoicing',
  });
  return { url: embedded.url, release: () => embedded.stop() };
}

const pools = new WeakMap<PrismaClient, pg.Pool>();

export function createPrisma(url: string, options: { max?: number; onIdleError?: (error: Error) => void } = {}): PrismaClient {
  // Our own pool, handed to the adapter (which ends it on $disconnect), so the bulk paths Prisma
  // cannot express (COPY FROM STDIN) share its connections: see pgPoolOf.
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle connection the server closes (a restart, pg_terminate_backend, DROP DATABASE ... FORCE)
  // makes the pool emit 'error'; unheard, that would end the process. pg-pool has already dropped
  // that connection and opens a new one when needed.
  pool.on('error', (error) => options.onIdleError?.(error));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(prisma, pool);
  return prisma;
}

/** The node-postgres pool behind a client made by createPrisma: for COPY, which Prisma has no API for. */
export function pgPoolOf(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('this Prisma client was not made by createPrisma; it has no pg pool to share');
  return pool;
}

/**
 * Runs one Prisma.sql statement and returns its rows. On a client made by createPrisma it goes
 * straight to the pg pool behind it (for the hot paths: no query-engine round trip per query);
 * on a transaction, or any other Db, through $queryRaw. Write the SQL so both give the same JS
 * values: cast bigint and numeric results to ::text or ::int, never rely on the driver's parsing.
 */
export async function queryRows<T>(db: Db, statement: PrismaSql, options: { prepared?: boolean } = {}): Promise<T[]> {
  const pool = pools.get(db as PrismaClient);
  if (!pool) return db.$queryRaw<T[]>(statement);
  const values = statement.values as unknown[];
  if (!options.prepared) return (await pool.query(statement.text, values)).rows as T[];
  return (await pool.query({ name: statementName(statement.text), text: statement.text, values })).rows as T[];
}

const statementNames = new Map<string, string>();

/**
 * `prepared: true` runs the statement as a named prepared statement, parsed and planned once per
 * pooled connection instead of once per call (bench:api: a page of invoices went from about
 * 1,400 to 1,900 queries/s). Only for a statement whose TEXT is fixed (every value a parameter,
 * no IN-lists spelled out): each distinct text gets a name for the process's life.
 */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `q_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * A PostgreSQL array literal ('{a,b}') to pass as one text[]/uuid[]/bigint[]/... parameter:
 * what node-postgres makes of a JS array, without its per-element type dispatch and double regex
 * escaping (bench:intake: 12 columns of 500 events cost the API about 0.9 ms a batch that way).
 * `quoted` elements may hold any text and are quoted and escaped as node-postgres does; unquoted
 * ones must be plain tokens the caller has validated (digits, hex uuids, ISO instants, currency
 * codes): never empty, never NULL, without whitespace, quotes, backslashes, commas or braces.
 */
export function arrayLiteral(values: readonly (string | number)[], options: { quoted: boolean }): string {
  if (!options.quoted) return `{${values.join(',')}}`;
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = String(values[i]);
    if (i > 0) out += ',';
    out += value.includes('"') || value.includes('\\') ? `"${value.replace(/[\\"]/g, '\\$&')}"` : `"${value}"`;
  }
  return `${out}}`;
}

/**
 * A statement runner that is either a Prisma client/transaction or a node-postgres connection:
 * the month close's set-based statements are written once and run on both. Through Prisma every
 * parameter is serialised to JSON and back (a chunk's 10,000 lines and its inputs document cost
 * ~1 s of CPU per 10,000 tenants); through node-postgres they go to the wire as they are.
 * Rows differ between the two in bigint and numeric columns: cast them to ::text in the SQL.
 */
export interface Sql {
  rows<T>(statement: PrismaSql): Promise<T[]>;
  execute(statement: PrismaSql): Promise<number>;
  /** `COPY ... FROM STDIN` with text-format rows: only on one node-postgres connection (inPgTransaction's). */
  copy?(copyStatement: string, rows: string | Buffer[]): Promise<void>;
}

/** On a client made by createPrisma, straight to its pool (each statement on its own); on a transaction, through Prisma. */
export function sqlOf(db: Db): Sql {
  const pool = pools.get(db as PrismaClient);
  if (pool) return pgSql(pool);
  return {
    rows: <T>(statement: PrismaSql) => db.$queryRaw<T[]>(statement),
    execute: (statement: PrismaSql) => db.$executeRaw(statement),
  };
}

/**
 * Runs `fn` in one transaction on a connection of the pg pool behind `prisma` (a client made by
 * createPrisma; returns undefined without calling `fn` for any other). Commits when `fn` resolves,
 * rolls back when it throws, and never returns a connection mid-transaction to the pool.
 */
export async function inPgTransaction<T>(
  prisma: PrismaClient,
  fn: (sql: Sql) => Promise<T>,
  options: { statementTimeoutMs?: number } = {},
): Promise<{ value: T } | undefined> {
  const pool = pools.get(prisma);
  if (!pool) return undefined;
  const client = await pool.connect();
  const sql: Sql = { ...pgSql(client), copy: (copyStatement, rows) => copyRows(client, copyStatement, rows) };
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    // Like a Prisma transaction's timeout: a statement stuck behind a lock fails instead of hanging.
    if (options.statementTimeoutMs) await client.query(`SET LOCAL statement_timeout = ${Math.trunc(options.statementTimeoutMs)}`);
    const value = await fn(sql);
    await client.query('COMMIT');
    return { value };
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError as Error));
    throw error;
  } finally {
    // A connection whose rollback failed is destroyed rather than reused in an unknown state.
    client.release(broken);
  }
}

/** The Sql runner over a node-postgres pool (each statement on its own) or one of its connections. */
function pgSql(queryable: pg.Pool | pg.PoolClient): Sql {
  const query = (statement: PrismaSql) => queryable.query(statement.text, statement.values as unknown[]);
  return {
    rows: async <T>(statement: PrismaSql) => (await query(statement)).rows as T[],
    execute: async (statement: PrismaSql) => (await query(statement)).rowCount ?? 0,
  };
}
