// Once per test run: find PostgreSQL (DATABASE_URL, or the embedded one), migrate a template
// database, and hand its name to the test files, which each clone it (CREATE DATABASE ... TEMPLATE).
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/platform/config.ts';
import { resolveDatabase } from '../../src/platform/database.ts';
import { migrate } from '../../src/platform/migrate.ts';

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  const handle = await resolveDatabase(loadConfig({ ...process.env, NODE_ENV: 'test' }));
  const template = `invoicing_test_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: handle.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${template}"`);
  await admin.query(`CREATE DATABASE "${template}"`);
  await admin.end();
  await migrate(withDatabase(handle.url, template));

  project.provide('serverUrl', handle.url);
  project.provide('templateDatabase', template);

  return async () => {
    const client = new pg.Client({ connectionString: handle.url });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await client.end();
    await handle.release();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
    templateDatabase: string;
  }
}
