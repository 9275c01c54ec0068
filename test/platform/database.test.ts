// The raw-SQL helpers of src/platform/database.ts against a real PostgreSQL: array literals read
// back exactly as node-postgres's own array parameters, and prepared statements by text.
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.ts';
import { arrayLiteral, queryRows } from '../../src/platform/database.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();

describe('arrayLiteral', () => {
  it('quoted: any text reads back as sent, as node-postgres sends a JS array', async () => {
    const awkward = ['', ' ', 'NULL', 'null', 'a,b', '{x}', 'say "hi"', 'back\\slash', '\\"', 'tab\there', 'line\nbreak', 'é😀', ' padded '];
    const pool = new pg.Pool({ connectionString: db().url, max: 1 });
    try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constantFrom(...awkward), fc.string({ unit: 'binary' }).filter((s) => !s.includes('\u0000') && s.isWellFormed())), { maxLength: 20 }), async (values) => {
        const { rows } = await pool.query('SELECT $1::text[] AS ours, $2::text[] AS theirs', [arrayLiteral(values, { quoted: true }), values]);
        expect(rows[0].ours).toEqual(values);
        expect(rows[0].theirs).toEqual(values);
      }),
      { numRuns: 200 },
    );
    } finally {
      await pool.end();
    }
  });

  it('unquoted: validated tokens (uuids, integers, instants) read back as their types', async () => {
    const [row] = await queryRows<{ ids: string; n: string; at: string }>(
      db().prisma,
      Prisma.sql`SELECT (${arrayLiteral(['11111111-1111-4111-8111-11111111111A', '22222222-2222-4222-8222-222222222222'], { quoted: false })}::uuid[])::text AS ids,
                        (${arrayLiteral([0, -0, 9007199254740991], { quoted: false })}::bigint[])::text AS n,
                        (${arrayLiteral(['2026-04-01T00:00:00.000Z'], { quoted: false })}::timestamptz[] = ARRAY['2026-04-01T00:00:00Z'::timestamptz])::text AS at`,
      { prepared: true },
    );
    expect(row).toEqual({ ids: '{11111111-1111-4111-8111-11111111111a,22222222-2222-4222-8222-222222222222}', n: '{0,0,9007199254740991}', at: 'true' });
  });
});
