import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { migrate, readMigrations } from '../src/platform/migrate.ts';
import { useTestDatabase } from './support/db.ts';

const db = useTestDatabase();

describe('migrations', () => {
  it('records every migration as Prisma does and a second run is a no-op', async () => {
    const result = await migrate(db().url);
    const files = await readMigrations();
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toEqual(files.map((f) => f.name));

    const client = new pg.Client({ connectionString: db().url });
    await client.connect();
    const { rows } = await client.query(
      'SELECT id, checksum, migration_name, started_at, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    await client.end();
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(files[i]!.checksum);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
    }
  });

  it('two processes migrating at once do not collide', async () => {
    const results = await Promise.all([migrate(db().url), migrate(db().url), migrate(db().url)]);
    for (const r of results) expect(r.applied).toEqual([]);
  });

  it('compresses invoice inputs with lz4 where the server has it, and keeps pglz where it does not', async () => {
    const client = new pg.Client({ connectionString: db().url });
    await client.connect();
    try {
      const { rows } = await client.query(`
        SELECT a.attcompression::text AS method,
               EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) AS server_has_lz4
          FROM pg_attribute a WHERE a.attrelid = 'tenant_invoices'::regclass AND a.attname = 'inputs'`);
      // attcompression: 'l' = lz4, '' = the server's default (pglz).
      expect(rows[0].method).toBe(rows[0].server_has_lz4 ? 'l' : '');
    } finally {
      await client.end();
    }
  });
});
