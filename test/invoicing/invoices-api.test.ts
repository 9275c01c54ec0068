import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { buildApp } from '../../src/http/app.ts';
import { allRoutes } from '../../src/http/routes.ts';
import { closeMonth } from '../../src/invoicing/month-close.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { TEST_JWT_SECRET, useTestApp } from '../support/app.ts';
import { seedPilot } from '../support/seed.ts';

const ctx = useTestApp({ now: () => new Date('2026-05-02T00:00:00Z') });
let tenantA: string;
let tenantB: string;
let invoiceA: string;
let deploymentA: string;

beforeAll(async () => {
  const { prisma } = ctx().db;
  const a = await seedPilot(prisma, 'alpha');
  const b = await seedPilot(prisma, 'beta');
  tenantA = a.tenant.id;
  tenantB = b.tenant.id;
  deploymentA = a.deployment.id;
  await closeMonth(
    { prisma, now: new Date('2026-05-01T03:00:00Z') },
    { runId: randomUUID(), period: parsePeriod('2026-04'), force: false, dryRun: false, tenantId: null, reason: null, requestedBy: 'test' },
  );
  invoiceA = (await prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId: tenantA } })).id;
});

const key = new TextEncoder().encode(TEST_JWT_SECRET);

describe('auth', () => {
  it('answers 401 without a token, with a bad one, an expired one, one without exp, or another algorithm', async () => {
    const { app } = ctx();
    const get = (authorization?: string) => app.inject({ method: 'GET', url: '/api/v1/invoices', headers: authorization ? { authorization } : {} });
    expect((await get()).statusCode).toBe(401);
    expect((await get('Bearer not-a-jwt')).statusCode).toBe(401);
    expect((await get('Basic abc')).statusCode).toBe(401);

    const expired = await new SignJWT({ roles: ['finance'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuedAt(1_700_000_000).setExpirationTime(1_700_000_100).sign(key);
    const res = await get(`Bearer ${expired}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'unauthorized', message: expect.stringMatching(/expired/) });

    const noExp = await new SignJWT({ roles: ['finance'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuedAt().sign(key);
    expect((await get(`Bearer ${noExp}`)).statusCode).toBe(401);

    const hs512 = await new SignJWT({ roles: ['finance'] }).setProtectedHeader({ alg: 'HS512' }).setSubject('x').setExpirationTime('5m').sign(key);
    expect((await get(`Bearer ${hs512}`)).statusCode).toBe(401);

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', roles: ['finance'], exp: 9_999_999_999 })).toString('base64url')}.`;
    expect((await get(`Bearer ${unsigned}`)).statusCode).toBe(401);

    const wrongSecret = await new SignJWT({ roles: ['finance'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('5m').sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    expect((await get(`Bearer ${wrongSecret}`)).statusCode).toBe(401);

    const unknownRole = await new SignJWT({ roles: ['superuser'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('5m').sign(key);
    expect((await get(`Bearer ${unknownRole}`)).statusCode).toBe(401);
  });

  it('answers 403 when the role may not roll up', async () => {
    const { app, auth } = ctx();
    for (const role of ['tenant_admin', 'tenant_member', 'llm_gateway'] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/invoices/rollup', headers: await auth(role, tenantA), payload: { period: '2026-04' } });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('forbidden');
    }
  });
});

describe('GET /api/v1/invoices', () => {
  it('shows finance every tenant with money as minor units, currency and a formatted string', async () => {
    const { app, auth } = ctx();
    const res = await app.inject({ method: 'GET', url: '/api/v1/invoices?period=2026-04', headers: await auth('finance') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data).toHaveLength(2);
    expect(body.data[0].total).toEqual({ amount_minor: 7064, currency: 'AUD', formatted: '70.64' });
    expect(body.data[0]).toMatchObject({ period: '2026-04', status: 'draft', subtotal: { amount_minor: 6422 }, tax: { amount_minor: 642 } });
  });

  it('shows a tenant only its own invoices and answers 404 for another tenant’s', async () => {
    const { app, auth } = ctx();
    const list = await app.inject({ method: 'GET', url: '/api/v1/invoices', headers: await auth('tenant_member', tenantA) });
    expect(list.json().data.map((i: { tenant_id: string }) => i.tenant_id)).toEqual([tenantA]);

    const own = await app.inject({ method: 'GET', url: `/api/v1/invoices/${invoiceA}`, headers: await auth('tenant_admin', tenantA) });
    expect(own.statusCode).toBe(200);
    expect(own.json().lines.map((l: { kind: string }) => l.kind)).toEqual(['plan_base', 'addon', 'overage', 'tax']);
    expect(own.json().lines[2]).toMatchObject({ resource_kind: 'droplet', quantity: '672', amount: { amount_minor: 672, formatted: '6.72' } });

    const other = await app.inject({ method: 'GET', url: `/api/v1/invoices/${invoiceA}`, headers: await auth('tenant_admin', tenantB) });
    expect(other.statusCode).toBe(404);
    expect(other.body).not.toContain('7064');
    expect((await app.inject({ method: 'GET', url: `/api/v1/invoices?tenant_id=${tenantA}`, headers: await auth('tenant_admin', tenantB) })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/invoices/not-a-uuid', headers: await auth('finance') })).statusCode).toBe(404);
  });

  it('paginates with a cursor and validates its query', async () => {
    const { app, auth } = ctx();
    const headers = await auth('platform_admin');
    const page1 = (await app.inject({ method: 'GET', url: '/api/v1/invoices?limit=1', headers })).json();
    expect(page1.data).toHaveLength(1);
    expect(page1.next_cursor).toBeTruthy();
    const page2 = (await app.inject({ method: 'GET', url: `/api/v1/invoices?limit=1&cursor=${page1.next_cursor}`, headers })).json();
    expect(page2.data).toHaveLength(1);
    expect(page2.data[0].id).not.toBe(page1.data[0].id);
    expect(page2.next_cursor).toBeNull();

    const tooMany = await app.inject({ method: 'GET', url: '/api/v1/invoices?limit=201', headers });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().field).toBe('limit');
    expect((await app.inject({ method: 'GET', url: '/api/v1/invoices?period=2026-13', headers })).json().field).toBe('period');
    // A cursor that is not ours, or that decodes to a non-UUID id, is a 400 naming it (never a 422 or a 500).
    const garbage = await app.inject({ method: 'GET', url: '/api/v1/invoices?cursor=garbage', headers });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().field).toBe('cursor');
    const forged = Buffer.from(JSON.stringify({ t: '2026-05-01T00:00:00.000Z', id: 'not-a-uuid' })).toString('base64url');
    const bad = await app.inject({ method: 'GET', url: `/api/v1/invoices?cursor=${forged}`, headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('cursor');
    const oldShape = Buffer.from(JSON.stringify({ createdAt: '2026-05-01T00:00:00.000Z', id: 'x' })).toString('base64url');
    expect((await app.inject({ method: 'GET', url: `/api/v1/invoices?cursor=${oldShape}`, headers })).statusCode).toBe(400);
    const filtered = (await app.inject({ method: 'GET', url: `/api/v1/invoices?tenant_id=${tenantB}&status=draft`, headers })).json();
    expect(filtered.data.map((i: { tenant_id: string }) => i.tenant_id)).toEqual([tenantB]);
  });

  it('lists each invoice exactly as its detail shows it (the list has its own SQL)', async () => {
    const { app, auth, db } = ctx();
    const headers = await auth('finance');
    // A paid invoice of another period too: every timestamp set, odd amounts and rate, a big total.
    const [paid] = await db.prisma.$queryRaw<{ id: string }[]>`
      INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, number, issued_at, due_at, paid_at, payment_reference, currency, tax_rate,
                                   subtotal_minor, tax_minor, total_minor, inputs, inputs_hash, llm_event_count, computed_at, created_at, updated_at)
      VALUES (${tenantB}::uuid, '2026-02-01Z', '2026-03-01Z', 'paid', 'INV-TEST-LIST-1', '2026-03-04T05:06:07.089Z', '2026-03-18T00:00:00Z', '2026-03-20T23:59:59.999Z', 'ref 1',
              'AUD', 0.125, 9007199254740993, 5, 9007199254740998, '{}', 'h', 3, '2026-03-01T03:00:00.001Z', '2026-03-01T03:00:00.001Z', '2026-03-20T23:59:59.999Z')
      RETURNING id::text AS id`;
    try {
      const list = (await app.inject({ method: 'GET', url: '/api/v1/invoices?limit=200', headers })).json();
      expect(list.data.length).toBe(3);
      for (const item of list.data) {
        const detail = (await app.inject({ method: 'GET', url: `/api/v1/invoices/${item.id}`, headers })).json();
        expect(item).toEqual(Object.fromEntries(Object.keys(item).map((k) => [k, detail[k]])));
        expect(Object.keys(item).sort()).toEqual(Object.keys(detail).filter((k) => !['net_total', 'lines', 'billed_to', 'supplier', 'status_changes', 'adjustment_notes', 'deliveries', 'inputs', 'revisions'].includes(k)).sort());
      }
      // In production the page is written without the zod check (hotPathSerialization): the same bytes.
      const { boss, config, db: { prisma } } = ctx();
      const production = await buildApp({ prisma, boss, config: { ...config, NODE_ENV: 'production' }, logger: pino({ level: 'silent' }) }, allRoutes);
      try {
        const checked = await app.inject({ method: 'GET', url: '/api/v1/invoices?limit=2', headers });
        const unchecked = await production.inject({ method: 'GET', url: '/api/v1/invoices?limit=2', headers });
        expect(unchecked.statusCode).toBe(200);
        expect(unchecked.body).toBe(checked.body);
      } finally {
        await production.close();
      }
      const row = list.data.find((i: { id: string }) => i.id === paid!.id);
      expect(row).toMatchObject({ period: '2026-02', tax_rate: '0.125', paid_at: '2026-03-20T23:59:59.999Z', total: { amount_minor: '9007199254740998', formatted: '90071992547409.98' } });
      // Keyset pages walk the same invoices in the same order.
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { data: { id: string }[]; next_cursor: string | null } = (await app.inject({ method: 'GET', url: `/api/v1/invoices?limit=1${cursor ? `&cursor=${cursor}` : ''}`, headers })).json();
        walked.push(...page.data.map((i: { id: string }) => i.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(walked).toEqual(list.data.map((i: { id: string }) => i.id));
    } finally {
      await db.prisma.$executeRaw`DELETE FROM tenant_invoices WHERE id = ${paid!.id}::uuid`;
    }
  });
});

describe('POST /api/v1/invoices/rollup', () => {
  it('rejects bad input naming the field', async () => {
    const { app, auth } = ctx();
    const headers = await auth('finance');
    const post = (payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/invoices/rollup', headers, payload: payload as object });
    expect((await post({})).json()).toMatchObject({ error: 'validation_failed', field: 'period' });
    expect((await post({ period: 'April' })).json().field).toBe('period');
    expect((await post({ period: '2026-04', force: 'yes' })).json().field).toBe('force');
    expect((await post({ period: '2026-04', tenant_id: 'abc' })).json().field).toBe('tenant_id');
    const notEnded = await post({ period: '2026-05' });
    expect(notEnded.statusCode).toBe(422);
    expect(notEnded.json().field).toBe('period');
    const unknownTenant = await post({ period: '2026-04', tenant_id: randomUUID() });
    expect(unknownTenant.statusCode).toBe(422);
    expect(unknownTenant.json().field).toBe('tenant_id');
    const malformed = await app.inject({ method: 'POST', url: '/api/v1/invoices/rollup', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"period":' });
    expect(malformed.statusCode).toBe(400);
  });
});

describe('GET /api/v1/deployments/:id/quote', () => {
  it('quotes with the same engine as month close, and hides other tenants’ deployments', async () => {
    const { app, auth } = ctx();
    const res = await app.inject({ method: 'GET', url: `/api/v1/deployments/${deploymentA}/quote?period=2026-04`, headers: await auth('tenant_admin', tenantA) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ projection: false, total: { amount_minor: 7064 }, subtotal: { amount_minor: 6422 } });
    // In May (2 May 00:00 = 24 h in), usage so far: 3 droplets × 24 h, well inside the allowance.
    const may = await app.inject({ method: 'GET', url: `/api/v1/deployments/${deploymentA}/quote`, headers: await auth('finance') });
    expect(may.json()).toMatchObject({ period: '2026-05', projection: true, subtotal: { amount_minor: 5750 } });
    const other = await app.inject({ method: 'GET', url: `/api/v1/deployments/${deploymentA}/quote`, headers: await auth('tenant_admin', tenantB) });
    expect(other.statusCode).toBe(404);
  });

  it('shows any amount the database can hold exactly, never a 500 (beyond 2^53 minor units as a string)', async () => {
    const { app, auth, db } = ctx();
    // The intake no longer accepts such a charge; one stored before the bound must still be shown.
    await db.prisma.$executeRaw`
      INSERT INTO llm_usage_events (gateway_request_id, tenant_id, deployment_id, model, provider, prompt_tokens, completion_tokens, total_tokens, charge, currency, occurred_at, body_hash)
      VALUES ('huge-1', ${tenantA}::uuid, ${deploymentA}::uuid, 'm', 'p', 1, 1, 2, 100000000000000, 'AUD', '2026-03-10T00:00:00Z', 'h')`;
    const res = await app.inject({ method: 'GET', url: `/api/v1/deployments/${deploymentA}/quote?period=2026-03`, headers: await auth('finance') });
    expect(res.statusCode).toBe(200);
    const llm = res.json().lines.find((l: { kind: string }) => l.kind === 'llm_usage');
    expect(llm.amount).toEqual({ amount_minor: '10000000000000000', currency: 'AUD', formatted: '100000000000000.00' });
  });
});
