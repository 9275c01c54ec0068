import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import type { Config } from './config.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export { PrismaClient };
export type { Prisma } from '../generated/prisma/client.ts';

/** A client or an interactive transaction: repositories accept either so callers own the transaction. */
export type Db = PrismaClient | Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
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

export function createPrisma(url: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: url, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}
