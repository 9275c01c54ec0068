// cost_lines' references (provider_invoice_id, cloud_resource_id, deployment_id) are enforced by
// statement-level triggers instead of foreign keys (migration 20261122110000): each rule a foreign
// key had, on a real database, including the row locks that make concurrent writers wait.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/db.ts';
import { seedTenant } from '../support/seed.ts';

const db = useTestDatabase();
let client: pg.Client;
let tenantId: string;

beforeAll(async () => {
  client = new pg.Client({ connectionString: db().url });
  await client.connect();
  tenantId = (await seedTenant(db().prisma)).id;
});
afterAll(async () => {
  await client?.end();
});

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db().url });
  await c.connect();
  return c;
}

async function invoice(): Promise<string> {
  const uuid = randomUUID();
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO provider_invoices (invoice_uuid, invoice_id, period, amount, description, "date")
     VALUES ($1, $1, '2026-10-01T00:00:00Z', 1, 'October', now()) RETURNING id::text`,
    [uuid],
  );
  return rows[0]!.id;
}

async function deployment(): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO deployments (tenant_id, slug, display_name, region) VALUES ($1, $2, 'd', 'syd1') RETURNING id::text`,
    [tenantId, `d-${randomUUID().slice(0, 8)}`],
  );
  return rows[0]!.id;
}

async function resource(deploymentId: string | null = null): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO cloud_resources (provider, provider_resource_id, kind, name, deployment_id, created_at)
     VALUES ('digitalocean', $1, 'droplet', 'web', $2, now()) RETURNING id::text`,
    [randomUUID(), deploymentId],
  );
  return rows[0]!.id;
}

let nextRow = 1;
const LINE = `INSERT INTO cost_lines (provider_invoice_id, "row_number", product, group_description, description, usd_raw, project_name,
                                      category, fields, amount_micros, kind, cloud_resource_id, deployment_id)
              VALUES ($1, $2, 'Droplets', '', 'web (s)', '$1.00', 'p', 'iaas', '{}', 1000000, 'droplet', $3, $4) RETURNING id::text`;

async function line(on: pg.Client, o: { invoiceId: string; resourceId?: string | null; deploymentId?: string | null }): Promise<string> {
  const { rows } = await on.query<{ id: string }>(LINE, [o.invoiceId, nextRow++, o.resourceId ?? null, o.deploymentId ?? null]);
  return rows[0]!.id;
}

async function lineRefs(id: string): Promise<{ provider_invoice_id: string; cloud_resource_id: string | null; deployment_id: string | null } | undefined> {
  const { rows } = await client.query(
    `SELECT provider_invoice_id::text, cloud_resource_id::text, deployment_id::text FROM cost_lines WHERE id = $1`,
    [id],
  );
  return rows[0];
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; constraint?: string; message: string; detail?: string }> {
  try {
    await p;
  } catch (error) {
    return error as { code?: string; constraint?: string; message: string; detail?: string };
  }
  throw new Error('expected the statement to fail');
}

/** True once `pid` waits for a lock (its statement blocked by another transaction's row lock). */
async function waitsForLock(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
    if (rows[0]?.wait_event_type === 'Lock') return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

const pidOf = async (c: pg.Client) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

describe('cost_lines references: what a foreign key refused is refused', () => {
  it('refuses a line whose invoice, resource or deployment does not exist, naming the constraint', async () => {
    const invoiceId = await invoice();
    const missing = randomUUID();
    for (const [refs, constraint] of [
      [{ invoiceId: missing }, 'cost_lines_provider_invoice_id_fkey'],
      [{ invoiceId, resourceId: missing }, 'cost_lines_cloud_resource_id_fkey'],
      [{ invoiceId, deploymentId: missing }, 'cost_lines_deployment_id_fkey'],
    ] as const) {
      const error = await failure(line(client, refs));
      expect(error).toMatchObject({ code: '23503', constraint });
      expect(error.detail).toContain(missing);
    }
    const ok = await line(client, { invoiceId, resourceId: await resource(), deploymentId: await deployment() });
    expect(await lineRefs(ok)).toBeDefined();
  });

  it('checks every row of a multi-row statement, and an update that points a line elsewhere', async () => {
    const invoiceId = await invoice();
    const resourceId = await resource();
    const error = await failure(
      client.query(
        `INSERT INTO cost_lines (provider_invoice_id, "row_number", product, group_description, description, usd_raw, project_name, category, fields, amount_micros, kind, cloud_resource_id)
         SELECT $1, g, 'Droplets', '', 'web (s)', '$1.00', 'p', 'iaas', '{}', 1, 'droplet', CASE WHEN g = 7 THEN gen_random_uuid() ELSE $2::uuid END
           FROM generate_series(1, 10) g`,
        [invoiceId, resourceId],
      ),
    );
    expect(error).toMatchObject({ code: '23503', constraint: 'cost_lines_cloud_resource_id_fkey' });
    expect((await client.query(`SELECT count(*)::int AS n FROM cost_lines WHERE provider_invoice_id = $1`, [invoiceId])).rows[0].n).toBe(0);

    const id = await line(client, { invoiceId, resourceId });
    expect(await failure(client.query(`UPDATE cost_lines SET deployment_id = gen_random_uuid() WHERE id = $1`, [id]))).toMatchObject({
      code: '23503',
      constraint: 'cost_lines_deployment_id_fkey',
    });
    const deploymentId = await deployment();
    await client.query(`UPDATE cost_lines SET deployment_id = $2 WHERE id = $1`, [id, deploymentId]);
    expect(await lineRefs(id)).toMatchObject({ deployment_id: deploymentId });
  });
});

describe('cost_lines references: what a foreign key did on delete and on a new id is done', () => {
  it('deleting an invoice deletes its lines (ON DELETE CASCADE) and no other', async () => {
    const [a, b] = [await invoice(), await invoice()];
    const [la, lb] = [await line(client, { invoiceId: a }), await line(client, { invoiceId: b })];
    await client.query(`DELETE FROM provider_invoices WHERE id = $1`, [a]);
    expect(await lineRefs(la)).toBeUndefined();
    expect(await lineRefs(lb)).toMatchObject({ provider_invoice_id: b });
  });

  it('deleting a resource or a deployment sets the lines’ reference to null and keeps the rest (ON DELETE SET NULL)', async () => {
    const invoiceId = await invoice();
    const deploymentId = await deployment();
    const resourceId = await resource(deploymentId);
    const id = await line(client, { invoiceId, resourceId, deploymentId });
    await client.query(`DELETE FROM cloud_resources WHERE id = $1`, [resourceId]);
    expect(await lineRefs(id)).toEqual({ provider_invoice_id: invoiceId, cloud_resource_id: null, deployment_id: deploymentId });
    await client.query(`DELETE FROM deployments WHERE id = $1`, [deploymentId]);
    expect(await lineRefs(id)).toEqual({ provider_invoice_id: invoiceId, cloud_resource_id: null, deployment_id: null });
  });

  it('a new id of an invoice, a resource or a deployment carries over to the lines (ON UPDATE CASCADE)', async () => {
    const invoiceId = await invoice();
    const deploymentId = await deployment();
    const resourceId = await resource(deploymentId);
    const id = await line(client, { invoiceId, resourceId, deploymentId });
    const [i2, r2, d2] = [randomUUID(), randomUUID(), randomUUID()];
    await client.query(`UPDATE provider_invoices SET id = $2 WHERE id = $1`, [invoiceId, i2]);
    await client.query(`UPDATE cloud_resources SET id = $2 WHERE id = $1`, [resourceId, r2]);
    await client.query(`UPDATE cloud_resources SET deployment_id = NULL WHERE id = $1`, [r2]); // deployments(id) is also referenced by cloud_resources
    await client.query(`UPDATE deployments SET id = $2 WHERE id = $1`, [deploymentId, d2]);
    expect(await lineRefs(id)).toEqual({ provider_invoice_id: i2, cloud_resource_id: r2, deployment_id: d2 });
  });

  it('refuses a TRUNCATE that would leave lines pointing nowhere, allows one that takes cost_lines along', async () => {
    const invoiceId = await invoice();
    await line(client, { invoiceId });
    await client.query('BEGIN');
    try {
      expect(await failure(client.query('TRUNCATE provider_invoices'))).toMatchObject({ code: '0A000' });
    } finally {
      await client.query('ROLLBACK');
    }
    await client.query('BEGIN');
    try {
      await client.query('TRUNCATE provider_invoices, cost_lines');
      expect((await client.query('SELECT count(*)::int AS n FROM cost_lines')).rows[0].n).toBe(0);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('refuses to delete a referenced row outside READ COMMITTED, where it could not see newer lines', async () => {
    const deploymentId = await deployment();
    const other = await connect();
    try {
      await other.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      expect(await failure(other.query(`DELETE FROM deployments WHERE id = $1`, [deploymentId]))).toMatchObject({ code: '0A000' });
      await other.query('ROLLBACK');
    } finally {
      await other.end();
    }
  });
});

describe('cost_lines references: concurrent writers, as with a foreign key', () => {
  it('a delete of a resource waits for the transaction storing lines that reference it, then unsets them', async () => {
    const invoiceId = await invoice();
    const resourceId = await resource();
    const [writer, deleter] = [await connect(), await connect()];
    try {
      const deleterPid = await pidOf(deleter);
      await writer.query('BEGIN');
      const id = await line(writer, { invoiceId, resourceId }); // locks the resource FOR KEY SHARE
      const deleting = deleter.query(`DELETE FROM cloud_resources WHERE id = $1`, [resourceId]);
      expect(await waitsForLock(deleterPid)).toBe(true);
      await writer.query('COMMIT');
      await deleting;
      expect(await lineRefs(id)).toMatchObject({ cloud_resource_id: null });
    } finally {
      await Promise.all([writer.end(), deleter.end()]);
    }
  });

  it('a line referencing an invoice being deleted waits, then is refused once the delete commits', async () => {
    const invoiceId = await invoice();
    const [deleter, writer] = [await connect(), await connect()];
    try {
      const writerPid = await pidOf(writer);
      await deleter.query('BEGIN');
      await deleter.query(`DELETE FROM provider_invoices WHERE id = $1`, [invoiceId]);
      const writing = failure(line(writer, { invoiceId }));
      expect(await waitsForLock(writerPid)).toBe(true);
      await deleter.query('COMMIT');
      expect(await writing).toMatchObject({ code: '23503', constraint: 'cost_lines_provider_invoice_id_fkey' });
    } finally {
      await Promise.all([deleter.end(), writer.end()]);
    }
  });
});
