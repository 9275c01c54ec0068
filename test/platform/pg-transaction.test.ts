// The month close's node-postgres transactions (inPgTransaction): commit on success, roll back
// everything on a throw, give the connection back clean, and decline clients it has no pool for.
import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.ts';
import { inPgTransaction, sqlOf } from '../../src/platform/database.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();
const slugs = async () =>
  (await sqlOf(db().prisma).rows<{ slug: string }>(Prisma.sql`SELECT slug FROM tenants WHERE slug LIKE 'pgtx-%' ORDER BY slug`)).map((r) => r.slug);
const insert = (slug: string) => Prisma.sql`INSERT INTO tenants (name, slug) VALUES (${slug}, ${slug})`;

describe('inPgTransaction', () => {
  it('commits what the function wrote and returns its value', async () => {
    const result = await inPgTransaction(db().prisma, async (sql) => {
      await sql.execute(insert('pgtx-a'));
      return (await sql.rows<{ n: number }>(Prisma.sql`SELECT COUNT(*)::int AS n FROM tenants WHERE slug = 'pgtx-a'`))[0]!.n;
    });
    expect(result).toEqual({ value: 1 });
    expect(await slugs()).toEqual(['pgtx-a']);
  });

  it('rolls back every statement when the function throws, and the connection is reusable', async () => {
    await expect(
      inPgTransaction(db().prisma, async (sql) => {
        await sql.execute(insert('pgtx-b'));
        await sql.execute(insert('pgtx-b')); // the unique slug refuses the second
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await slugs()).toEqual(['pgtx-a']);
    // Every pooled connection still works outside a transaction (none was left aborted).
    await Promise.all(Array.from({ length: 12 }, (_, i) => inPgTransaction(db().prisma, (sql) => sql.rows(Prisma.sql`SELECT ${i}::int AS i`))));
  });

  it('fails a statement that outlasts the timeout, and declines a Prisma transaction (no pool)', async () => {
    await expect(inPgTransaction(db().prisma, (sql) => sql.rows(Prisma.sql`SELECT pg_sleep(2)`), { statementTimeoutMs: 100 })).rejects.toThrow(/statement timeout/);
    await db().prisma.$transaction(async (tx) => {
      expect(await inPgTransaction(tx as never, async () => 1)).toBeUndefined();
    });
  });
});
