// POST /api/v1/integrations/llm-usage on a real database: idempotency, batches, exact charges,
// concurrency, ownership and field validation.
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { allRoutes } from '../../src/http/routes.ts';
import type { Db } from '../../src/platform/database.ts';
import { coalescedIngest } from '../../src/usage/coalesce.ts';
import { ingestLlmUsage } from '../../src/usage/ingest-llm-usage.ts';
import { parseLlmEvent, type LlmUsageEventBody } from '../../src/usage/llm-event.ts';
import { insertLlmEvents } from '../../src/usage/repository.ts';
import { useTestApp } from '../support/app.ts';

const NOW = new Date('2025-04-02T08:00:00.000Z');
const URL = '/api/v1/integrations/llm-usage';
const ctx = useTestApp({ now: () => NOW });

let tenantId = '';
let deploymentId = '';
let otherTenantId = '';
let otherDeploymentId = '';
let seq = 0;

beforeAll(async () => {
  const { prisma } = ctx().db;
  const tenant = await prisma.tenant.create({ data: { name: 'Acme', slug: 'acme', billingCurrency: 'AUD' } });
  const deployment = await prisma.deployment.create({ data: { tenantId: tenant.id, slug: 'prod', displayName: 'Prod', region: 'syd1' } });
  const other = await prisma.tenant.create({ data: { name: 'Globex', slug: 'globex', billingCurrency: 'USD' } });
  const otherDeployment = await prisma.deployment.create({ data: { tenantId: other.id, slug: 'prod', displayName: 'Prod', region: 'nyc1' } });
  tenantId = tenant.id;
  deploymentId = deployment.id;
  otherTenantId = other.id;
  otherDeploymentId = otherDeployment.id;
});

function event(overrides: Record<string, unknown> = {}): LlmUsageEventBody {
  seq += 1;
  return {
    gateway_request_id: `req-${seq}-${Math.random().toString(36).slice(2)}`,
    tenant_id: tenantId,
    deployment_id: deploymentId,
    model: 'gpt-4o-mini',
    provider: 'openai',
    prompt_tokens: 1000,
    completion_tokens: 250,
    total_tokens: 1250,
    charge: '0.00125',
    currency: 'AUD',
    occurred_at: '2025-03-15T10:00:00Z',
    ...overrides,
  } as LlmUsageEventBody;
}

async function post(payload: unknown, roles: Parameters<ReturnType<typeof ctx>['auth']>[0] = 'llm_gateway') {
  return ctx().app.inject({ method: 'POST', url: URL, headers: await ctx().auth(roles), payload: payload as object });
}

async function storedRow(gatewayRequestId: string) {
  const rows = await ctx().db.prisma.$queryRaw<Record<string, unknown>[]>`
    SELECT id::text, gateway_request_id, tenant_id::text, deployment_id::text, model, provider,
           prompt_tokens::text, completion_tokens::text, total_tokens::text, charge::text, currency,
           occurred_at, received_at, body_hash
    FROM llm_usage_events WHERE gateway_request_id = ${gatewayRequestId}`;
  return rows;
}

describe('auth', () => {
  it('answers 401 without a valid token', async () => {
    const none = await ctx().app.inject({ method: 'POST', url: URL, payload: event() });
    expect(none.statusCode).toBe(401);
    const bad = await ctx().app.inject({ method: 'POST', url: URL, headers: { authorization: 'Bearer nope' }, payload: event() });
    expect(bad.statusCode).toBe(401);
  });

  it('answers 403 to other roles and accepts llm_gateway and platform_admin', async () => {
    expect((await post(event(), 'tenant_admin')).statusCode).toBe(403);
    expect((await post(event(), 'finance')).statusCode).toBe(403);
    expect((await post(event(), 'llm_gateway')).statusCode).toBe(201);
    expect((await post(event(), 'platform_admin')).statusCode).toBe(201);
  });
});

describe('single event', () => {
  it('stores a new event exactly as priced and answers 201', async () => {
    const e = event({ charge: '0.000000000001', occurred_at: '2025-03-15T21:00:00.5+11:00' });
    const res = await post(e);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({ status: 'created', duplicate: false, id: expect.any(String) });

    const [row] = await storedRow(e.gateway_request_id);
    expect(row).toMatchObject({
      id: body.id,
      tenant_id: tenantId,
      deployment_id: deploymentId,
      prompt_tokens: '1000',
      completion_tokens: '250',
      total_tokens: '1250',
      charge: '0.000000000001',
      currency: 'AUD',
      occurred_at: new Date('2025-03-15T10:00:00.500Z'),
      received_at: NOW,
    });
    expect(row!.body_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers a replay with the same body 200 duplicate with the stored id', async () => {
    const e = event();
    const first = await post(e);
    const replay = await post(e);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ status: 'duplicate', duplicate: true, id: first.json().id });
    expect(await storedRow(e.gateway_request_id)).toHaveLength(1);
  });

  it('treats "1.50" and "1.5", and the same instant at another offset, as the same body', async () => {
    const e = event({ charge: '1.50', occurred_at: '2025-03-15T10:00:00Z' });
    const first = await post(e);
    expect(first.statusCode).toBe(201);
    const replay = await post({ ...e, charge: '1.5', occurred_at: '2025-03-15T12:00:00+02:00' });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ status: 'duplicate', id: first.json().id });
  });

  it('answers the same gateway_request_id with another body 409 and leaves the stored row alone', async () => {
    const e = event();
    const created = await post(e);
    const before = await storedRow(e.gateway_request_id);

    const res = await post({ ...e, charge: '0.00126' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: 'conflict', field: 'gateway_request_id', details: { id: created.json().id } });
    expect(await storedRow(e.gateway_request_id)).toEqual(before);
  });

  it('keeps late usage for a period already invoiced', async () => {
    await ctx().db.prisma.tenantInvoice.create({
      data: {
        tenantId,
        periodStart: new Date('2025-02-01T00:00:00Z'),
        periodEnd: new Date('2025-03-01T00:00:00Z'),
        status: 'issued',
        number: 'INV-2025-000001',
        issuedAt: new Date('2025-03-04T00:00:00Z'),
        dueAt: new Date('2025-03-18T00:00:00Z'),
        taxRate: '0.1',
        currency: 'AUD',
        subtotalMinor: 0n,
        taxMinor: 0n,
        totalMinor: 0n,
        inputs: {},
        inputsHash: 'x',
        computedAt: new Date('2025-03-01T03:00:00Z'),
      },
    });
    const e = event({ occurred_at: '2025-02-20T00:00:00Z' });
    expect((await post(e)).statusCode).toBe(201);
    const [row] = await storedRow(e.gateway_request_id);
    expect(row!.received_at).toEqual(NOW);
  });
});

describe('single event validation', () => {
  async function rejected(payload: unknown) {
    const res = await post(payload);
    expect(res.statusCode).toBe(422);
    return res.json() as { error: string; field: string; message: string };
  }

  it('rejects a deployment of another tenant, naming deployment_id', async () => {
    expect(await rejected(event({ deployment_id: otherDeploymentId }))).toMatchObject({ error: 'unknown_deployment', field: 'deployment_id' });
    expect(await rejected(event({ deployment_id: '00000000-0000-4000-8000-000000000000' }))).toMatchObject({ field: 'deployment_id' });
  });

  it('cannot store an event whose tenant is not its deployment\'s, even bypassing the intake (one foreign key on the pair)', async () => {
    const insert = (tenant: string, deployment: string) => ctx().db.prisma.$executeRaw`
      INSERT INTO llm_usage_events (gateway_request_id, tenant_id, deployment_id, model, provider, prompt_tokens, completion_tokens, total_tokens, charge, currency, occurred_at, body_hash)
      VALUES (${`raw-${seq++}`}, ${tenant}::uuid, ${deployment}::uuid, 'm', 'p', 1, 1, 2, 0.1, 'AUD', '2019-01-10T00:00:00Z', 'h')`; // a month no other test reads
    await expect(insert(tenantId, otherDeploymentId)).rejects.toThrow(/llm_usage_events_deployment_id_tenant_id_fkey/);
    await expect(insert(otherTenantId, deploymentId)).rejects.toThrow(/llm_usage_events_deployment_id_tenant_id_fkey/);
    expect(await insert(tenantId, deploymentId)).toBe(1);
  });

  it('rejects an unknown tenant, naming tenant_id', async () => {
    expect(await rejected(event({ tenant_id: '00000000-0000-4000-8000-000000000000' }))).toMatchObject({ error: 'unknown_tenant', field: 'tenant_id' });
  });

  it("rejects a currency other than the tenant's billing currency, naming currency", async () => {
    expect(await rejected(event({ currency: 'USD' }))).toMatchObject({ error: 'currency_mismatch', field: 'currency' });
    // The other tenant bills in USD: the same event for it is fine.
    expect((await post(event({ tenant_id: otherTenantId, deployment_id: otherDeploymentId, currency: 'USD' }))).statusCode).toBe(201);
  });

  it('rejects a JSON number charge, naming charge', async () => {
    const body = await rejected(event({ charge: 0.00125 }));
    expect(body).toMatchObject({ error: 'validation_failed', field: 'charge' });
    expect(body.message).toMatch(/not a JSON number/);
  });

  it.each([
    ['13 fractional digits', { charge: '0.0000000000001' }, 'charge'],
    ['a negative charge', { charge: '-0.00125' }, 'charge'],
    ['a charge too large to bill end to end', { charge: '100000000000000' }, 'charge'],
    ['occurred_at without an offset', { occurred_at: '2025-03-15T10:00:00' }, 'occurred_at'],
    ['negative tokens', { prompt_tokens: -1 }, 'prompt_tokens'],
    ['a missing gateway_request_id', { gateway_request_id: undefined }, 'gateway_request_id'],
    ['a 201-character gateway_request_id', { gateway_request_id: 'x'.repeat(201) }, 'gateway_request_id'],
  ])('rejects %s, naming the field', async (_what, overrides, field) => {
    expect(await rejected(event(overrides))).toMatchObject({ field });
  });

  it('stores nothing for a rejected event', async () => {
    const e = event({ charge: '-1' });
    await rejected(e);
    expect(await storedRow(e.gateway_request_id)).toHaveLength(0);
  });

  it('rejects a body that is not an object', async () => {
    expect(await rejected([event()])).toMatchObject({ field: '(body)' });
  });
});

describe('batch', () => {
  it('stores the good events and reports each bad one by field, without rejecting the others', async () => {
    const good1 = event({ gateway_request_id: `quote"comma,brace{}back\\slash ${seq}` }); // survives array parameters
    const numberCharge = event({ charge: 0.5 });
    const otherTenantsDeployment = event({ deployment_id: otherDeploymentId });
    const good2 = event();
    const res = await post({ events: [good1, numberCharge, otherTenantsDeployment, good2, 'not an event'] });

    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ created: 2, duplicates: 0, conflicts: 0, invalid: 3 });
    expect(body.results).toEqual([
      { index: 0, gateway_request_id: good1.gateway_request_id, status: 'created', id: expect.any(String) },
      {
        index: 1,
        gateway_request_id: numberCharge.gateway_request_id,
        status: 'invalid',
        error: expect.objectContaining({ error: 'validation_failed', field: 'charge' }),
      },
      {
        index: 2,
        gateway_request_id: otherTenantsDeployment.gateway_request_id,
        status: 'invalid',
        error: expect.objectContaining({ error: 'unknown_deployment', field: 'deployment_id' }),
      },
      { index: 3, gateway_request_id: good2.gateway_request_id, status: 'created', id: expect.any(String) },
      { index: 4, gateway_request_id: null, status: 'invalid', error: expect.objectContaining({ field: '(event)' }) },
    ]);
    expect(await storedRow(good1.gateway_request_id)).toMatchObject([{ id: body.results[0].id }]);
    expect(await storedRow(numberCharge.gateway_request_id)).toHaveLength(0);
    expect(await storedRow(otherTenantsDeployment.gateway_request_id)).toHaveLength(0);
  });

  it('answers the same bytes in production, where the answer is not checked against its schema', async () => {
    const { app, boss, config, db, auth } = ctx();
    const production = await buildApp({ prisma: db.prisma, boss, config: { ...config, NODE_ENV: 'production' }, logger: pino({ level: 'silent' }), now: () => NOW }, allRoutes);
    try {
      const headers = await auth('llm_gateway');
      const single = event();
      const batch = { events: [event(), event({ charge: 0.5 }), single, 'not an event'] };
      const first = await production.inject({ method: 'POST', url: URL, headers, payload: batch });
      expect(first.json()).toMatchObject({ created: 2, invalid: 2 });
      for (const payload of [batch, single, event({ tenant_id: 'nope' })]) {
        const unchecked = await production.inject({ method: 'POST', url: URL, headers, payload: payload as object });
        const checked = await app.inject({ method: 'POST', url: URL, headers, payload: payload as object });
        expect([unchecked.statusCode, unchecked.body]).toEqual([checked.statusCode, checked.body]);
      }
    } finally {
      await production.close();
    }
  });

  it('lets the first of a repeated gateway_request_id win; later ones are duplicates of it or conflicts with it', async () => {
    const e = event();
    const stored = event();
    await post(stored);
    const res = await post({
      events: [e, { ...e, charge: '0.001250' }, { ...e, charge: '9' }, stored, { ...stored, model: 'other' }],
    });
    const { results, ...counts } = res.json();
    expect(counts).toEqual({ created: 1, duplicates: 2, conflicts: 2, invalid: 0 });
    expect(results.map((r: { status: string }) => r.status)).toEqual(['created', 'duplicate', 'conflict', 'duplicate', 'conflict']);
    expect(results[1].id).toBe(results[0].id);
    expect(results[2]).toMatchObject({ id: results[0].id, error: { error: 'conflict', field: 'gateway_request_id' } });
    const [row] = await storedRow(e.gateway_request_id);
    expect(row!.charge).toBe('0.001250000000');
  });

  it('stores 1,000 events in a handful of queries, and their charges sum exactly', async () => {
    const deployment = await ctx().db.prisma.deployment.create({ data: { tenantId, slug: 'bulk', displayName: 'Bulk', region: 'syd1' } });
    const events = Array.from({ length: 1000 }, () => event({ deployment_id: deployment.id, charge: '0.00125' }));
    const res = await post({ events });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ created: 1000, duplicates: 0, conflicts: 0, invalid: 0 });

    const [sum] = await ctx().db.prisma.$queryRaw<{ total: string; n: bigint }[]>`
      SELECT sum(charge)::text AS total, count(*) AS n FROM llm_usage_events WHERE deployment_id = ${deployment.id}::uuid`;
    expect(sum).toEqual({ total: '1.250000000000', n: 1000n });

    // Replaying the batch is also set-based: one ownership check, one insert, one lookup.
    let queries = 0;
    const prisma = ctx().db.prisma;
    const counting = { $queryRaw: (...args: Parameters<typeof prisma.$queryRaw>) => ((queries += 1), prisma.$queryRaw(...args)) } as unknown as Db;
    const replay = await ingestLlmUsage(counting, events, { now: NOW });
    expect(replay).toMatchObject({ created: 0, duplicates: 1000 });
    expect(queries).toBe(3);
  });

  it('stores a batch of new, owned events in ONE query; a replay takes three', async () => {
    let queries = 0;
    const prisma = ctx().db.prisma;
    const counting = { $queryRaw: (...args: Parameters<typeof prisma.$queryRaw>) => ((queries += 1), prisma.$queryRaw(...args)) } as unknown as Db;
    const events = Array.from({ length: 50 }, () => event());
    expect(await ingestLlmUsage(counting, events, { now: NOW })).toMatchObject({ created: 50, invalid: 0 });
    expect(queries).toBe(1);
    queries = 0;
    expect(await ingestLlmUsage(counting, events, { now: NOW })).toMatchObject({ created: 0, duplicates: 50 });
    expect(queries).toBe(3);
  });

  it('an id whose first event is not owned goes to the first owned event after it, as if the first were not there', async () => {
    const e = event();
    const foreign = { ...e, deployment_id: otherDeploymentId };
    const owned = { ...e, charge: '0.5' };
    const res = await post({ events: [foreign, owned, { ...owned }] });
    expect(res.json()).toMatchObject({ created: 1, duplicates: 1, invalid: 1 });
    expect(res.json().results.map((r: { status: string }) => r.status)).toEqual(['invalid', 'created', 'duplicate']);
    expect(res.json().results[0].error).toMatchObject({ error: 'unknown_deployment', field: 'deployment_id' });
    const [row] = await storedRow(e.gateway_request_id);
    expect(row).toMatchObject({ deployment_id: deploymentId, charge: '0.500000000000' });
  });

  it('rejects an empty batch and one of more than 1,000 events, naming events', async () => {
    for (const events of [[], Array.from({ length: 1001 }, () => event()), 'nope']) {
      const res = await post({ events });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ field: 'events' });
    }
  });
});

describe('single events arriving together (coalescedIngest)', () => {
  it('stores them in one call and answers each as if sent one after the other', async () => {
    let queries = 0;
    const prisma = ctx().db.prisma;
    const counting = { $queryRaw: (...args: Parameters<typeof prisma.$queryRaw>) => ((queries += 1), prisma.$queryRaw(...args)) } as unknown as Db;
    const ingest = coalescedIngest(counting, { now: () => NOW });
    const fresh = Array.from({ length: 20 }, () => event());
    const first = event();
    const answers = await Promise.all(
      [...fresh, first, { ...first }, { ...first, charge: '9' }, event({ charge: 0.5 }), event({ deployment_id: otherDeploymentId })].map((raw) => ingest(raw)),
    );
    expect(answers.map((a) => a.status)).toEqual([...fresh.map(() => 'created'), 'created', 'duplicate', 'conflict', 'invalid', 'invalid']);
    expect(answers[21]!.id).toBe(answers[20]!.id);
    expect(answers[23]!.error).toMatchObject({ field: 'charge' });
    expect(answers[24]!.error).toMatchObject({ code: 'unknown_deployment', field: 'deployment_id' });
    // One call: the insert, and one ownership check for the events that did not insert.
    expect(queries).toBe(2);
    for (const e of [...fresh, first]) expect(await storedRow(e.gateway_request_id)).toHaveLength(1);
  });

  it('answers each waiting request with the error of a call that fails', async () => {
    const failing = { $queryRaw: async () => Promise.reject(new Error('connection lost')) } as unknown as Db;
    const ingest = coalescedIngest(failing, { now: () => NOW });
    const outcomes = await Promise.allSettled([ingest(event()), ingest(event())]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'fulfilled'))).toEqual(['connection lost', 'connection lost']);
  });

  it('a call that fails is sent again event by event: only the request whose event fails gets the error', async () => {
    const prisma = ctx().db.prisma;
    // The database refuses any statement that carries the poisoned event (a trigger, a constraint, ...).
    const poisoned = {
      $queryRaw: async (...args: Parameters<typeof prisma.$queryRaw>) => {
        const statement = args[0] as unknown as { values: unknown[] };
        if (statement.values.some((v) => String(v).includes('poison'))) throw new Error('refused');
        return prisma.$queryRaw(...args);
      },
    } as unknown as Db;
    const ingest = coalescedIngest(poisoned, { now: () => NOW });
    const good = [event(), event()];
    const bad = event({ gateway_request_id: `poison-${seq}` });
    const outcomes = await Promise.allSettled([ingest(good[0]), ingest(bad), ingest(good[1])]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : o.value.status))).toEqual(['created', 'refused', 'created']);
    for (const e of good) expect(await storedRow(e.gateway_request_id)).toHaveLength(1);
    expect(await storedRow(bad.gateway_request_id)).toHaveLength(0);
  });

  it('keeps at most maxInFlight calls running and sends what queued meanwhile together', async () => {
    const prisma = ctx().db.prisma;
    let running = 0;
    let most = 0;
    let queries = 0;
    const slow = {
      $queryRaw: async (...args: Parameters<typeof prisma.$queryRaw>) => {
        queries += 1;
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        try {
          return await prisma.$queryRaw(...args);
        } finally {
          running -= 1;
        }
      },
    } as unknown as Db;
    const ingest = coalescedIngest(slow, { now: () => NOW, maxInFlight: 1 });
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      sent.push(...Array.from({ length: 5 }, () => ingest(event())));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const answers = (await Promise.all(sent)) as { status: string }[];
    expect(answers.every((a) => a.status === 'created')).toBe(true);
    expect(most).toBe(1);
    // The first five went out at once; the fifteen that came while they were stored, in one more call.
    expect(queries).toBe(2);
  });
});

describe('concurrency', () => {
  it('collapses concurrent identical requests to one row: one 201, the rest 200 duplicate', async () => {
    const e = event();
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(e)));
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(responses.map((r) => r.json().id));
    expect(ids.size).toBe(1);
    expect(await storedRow(e.gateway_request_id)).toHaveLength(1);
  });

  it('lets overlapping concurrent batches finish without deadlock', async () => {
    // Each INSERT waits on keys that another in-flight INSERT holds. Inserting in key order keeps
    // those waits one-directional; in input order, a batch and its reverse deadlock (40P01).
    const prisma = ctx().db.prisma;
    for (let round = 0; round < 3; round += 1) {
      const events = Array.from({ length: 2000 }, () => {
        const parsed = parseLlmEvent(event());
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
        return parsed.event;
      });
      const reversed = [...events].reverse();
      const inserted = await Promise.all([events, reversed, events, reversed].map((batch) => insertLlmEvents(prisma, batch, NOW)));
      expect(inserted.reduce((n, rows) => n + rows.length, 0)).toBe(2000);
    }
  });
});

describe('OpenAPI', () => {
  it('documents the route', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().paths[URL].post.requestBody).toBeDefined();
  });
});
