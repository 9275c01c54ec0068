import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, type Prisma as PrismaNamespace } from '../generated/prisma/client.ts';
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

export function createPrisma(url: string, options: { max?: number } = {}): PrismaClient {
  // Our own pool, handed to the adapter (which ends it on $disconnect), so the bulk paths Prisma
  // cannot express (COPY FROM STDIN) share its connections: see pgPoolOf.
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
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
export async function queryRows<T>(db: Db, statement: PrismaSql): Promise<T[]> {
  const pool = pools.get(db as PrismaClient);
  if (pool) return (await pool.query(statement.text, statement.values as unknown[])).rows as T[];
  return db.$queryRaw<T[]>(statement);
}
