// A database per test file, cloned from the migrated template. Kept when a test failed
// (its name is printed) so it can be inspected; dropped otherwise.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { createPrisma, type PrismaClient } from '../../src/platform/database.ts';
import { withDatabase } from './global-setup.ts';

export interface TestDatabase {
  url: string;
  name: string;
  prisma: PrismaClient;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('serverUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `invoicing_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${inject('templateDatabase')}"`));
  const url = withDatabase(inject('serverUrl'), name);
  return { url, name, prisma: createPrisma(url) };
}

export async function dropTestDatabase(db: TestDatabase): Promise<void> {
  await db.prisma.$disconnect();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`));
}

/** Registers a per-file database; returns a getter valid inside tests. */
export function useTestDatabase(): () => TestDatabase {
  let db: TestDatabase | undefined;
  let failed = false;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach((context) => {
    if (context.task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    if (!db) return;
    if (failed) {
      await db.prisma.$disconnect();
      console.error(`test database kept for inspection: ${db.name} (${db.url})`);
    } else {
      await dropTestDatabase(db);
    }
  });
  return () => {
    if (!db) throw new Error('test database not ready');
    return db;
  };
}
