import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.ts';

// A clock the tests move forward: transitions may not be in the future nor before the last event.
let clock = new Date('2026-11-01T00:00:00.000Z');
const ctx = useTestApp({ now: () => clock });

async function post(url: string, payload: unknown) {
  return ctx().app.inject({ method: 'POST', url, payload: payload as object, headers: await ctx().auth('platform_admin') });
}
async function get(url: string) {
  return ctx().app.inject({ method: 'GET', url, headers: await ctx().auth('platform_admin') });
}

let tenantId = '';
let otherTenantId = '';
let counter = 0;

async function createDeployment(extra: Record<string, unknown> = {}) {
  counter += 1;
  const res = await post('/api/v1/deployments', { tenant_id: tenantId, slug: `dep-${counter}`, display_name: `Dep ${counter}`, region: 'syd1', ...extra });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function transition(id: string, payload: Record<string, unknown>) {
  return post(`/api/v1/deployments/${id}/transition`, payload);
}

beforeAll(async () => {
  tenantId = (await post('/api/v1/tenants', { name: 'Acme', slug: 'acme' })).json().id;
  otherTenantId = (await post('/api/v1/tenants', { name: 'Other', slug: 'other' })).json().id;
});

describe('POST /api/v1/deployments', () => {
  it('creates a trial deployment with defaults and records the creation event', async () => {
    const res = await post('/api/v1/deployments', { tenant_id: tenantId, slug: 'web', display_name: 'Web', region: 'syd1' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      tenant_id: tenantId,
      slug: 'web',
      display_name: 'Web',
      region: 'syd1',
      state: 'trial',
      llm_mode: 'platform',
      billing_action_suspended: false,
      created_at: clock.toISOString(),
      subscription: null,
      events: [{ from: null, to: 'trial', actor: 'test-user', at: clock.toISOString() }],
    });
  });

  it('creates an active deployment with explicit options', async () => {
    const res = await post('/api/v1/deployments', {
      tenant_id: tenantId,
      slug: 'api',
      display_name: 'API',
      region: 'sgp1',
      llm_mode: 'byok',
      state: 'active',
      billing_action_suspended: true,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ state: 'active', llm_mode: 'byok', billing_action_suspended: true, events: [{ from: null, to: 'active' }] });
  });

  it('answers 409 naming slug for a duplicate in the same tenant only', async () => {
    await post('/api/v1/deployments', { tenant_id: tenantId, slug: 'shared', display_name: 'A', region: 'syd1' });
    const dup = await post('/api/v1/deployments', { tenant_id: tenantId, slug: 'shared', display_name: 'B', region: 'syd1' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: 'deployment_slug_taken', field: 'slug' });
    const elsewhere = await post('/api/v1/deployments', { tenant_id: otherTenantId, slug: 'shared', display_name: 'C', region: 'syd1' });
    expect(elsewhere.statusCode).toBe(201);
  });

  it('answers 422 naming tenant_id for an unknown tenant', async () => {
    const res = await post('/api/v1/deployments', { tenant_id: '00000000-0000-4000-8000-000000000000', slug: 'x', display_name: 'X', region: 'syd1' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'tenant_not_found', field: 'tenant_id' });
  });

  it.each([
    ['missing tenant_id', { tenant_id: undefined, slug: 'x', display_name: 'X', region: 'r' }, 'tenant_id'],
    ['malformed tenant_id', { tenant_id: 'acme', slug: 'x', display_name: 'X', region: 'r' }, 'tenant_id'],
    ['missing slug', { display_name: 'X', region: 'r' }, 'slug'],
    ['missing display_name', { slug: 'x', region: 'r' }, 'display_name'],
    ['missing region', { slug: 'x', display_name: 'X' }, 'region'],
    ['unknown llm_mode', { slug: 'x', display_name: 'X', region: 'r', llm_mode: 'free' }, 'llm_mode'],
    ['a non-initial state', { slug: 'x', display_name: 'X', region: 'r', state: 'paused' }, 'state'],
    ['a string for billing_action_suspended', { slug: 'x', display_name: 'X', region: 'r', billing_action_suspended: 'yes' }, 'billing_action_suspended'],
    ['created_at without offset', { slug: 'x', display_name: 'X', region: 'r', created_at: '2026-11-01T00:00:00' }, 'created_at'],
  ])('rejects %s naming the field', async (_label, payload, field) => {
    const res = await post('/api/v1/deployments', { tenant_id: tenantId, ...payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed', field });
  });

  it('rejects created_at in the future with 422', async () => {
    const res = await post('/api/v1/deployments', {
      tenant_id: tenantId,
      slug: 'future',
      display_name: 'F',
      region: 'r',
      created_at: new Date(clock.getTime() + 1000).toISOString(),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().field).toBe('created_at');
  });
});

describe('GET /api/v1/deployments', () => {
  it('filters by tenant and state and pages', async () => {
    const byTenant = (await get(`/api/v1/deployments?tenant_id=${otherTenantId}`)).json();
    expect(byTenant.data.map((d: { slug: string }) => d.slug)).toEqual(['shared']);

    const active = (await get(`/api/v1/deployments?tenant_id=${tenantId}&state=active`)).json();
    expect(active.data.length).toBeGreaterThan(0);
    expect(active.data.every((d: { state: string }) => d.state === 'active')).toBe(true);

    const first = (await get(`/api/v1/deployments?tenant_id=${tenantId}&limit=1`)).json();
    expect(first.data).toHaveLength(1);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await get(`/api/v1/deployments?tenant_id=${tenantId}&limit=1&cursor=${first.next_cursor}`)).json();
    expect(second.data[0].id).not.toBe(first.data[0].id);
  });

  it.each([
    ['state=gone', 'state'],
    ['tenant_id=abc', 'tenant_id'],
    ['limit=500', 'limit'],
    ['colour=blue', 'colour'],
  ])('rejects %s', async (query, field) => {
    const res = await get(`/api/v1/deployments?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });

  it('answers 404 for an unknown deployment', async () => {
    expect((await get('/api/v1/deployments/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });
});

describe('POST /api/v1/deployments/:id/transition', () => {
  it('records every valid transition as an event, in order', async () => {
    const dep = await createDeployment();
    const path: [string, string][] = [
      ['active', '2026-11-02T00:00:00Z'],
      ['past_due', '2026-11-03T00:00:00Z'],
      ['active', '2026-11-04T00:00:00Z'],
      ['paused', '2026-11-05T00:00:00Z'],
      ['active', '2026-11-06T00:00:00Z'],
      ['suspended', '2026-11-07T00:00:00Z'],
      ['active', '2026-11-08T00:00:00Z'],
      ['cancelled', '2026-11-09T00:00:00Z'],
      ['archived', '2026-11-10T00:00:00Z'],
    ];
    clock = new Date('2026-11-10T00:00:00Z');
    for (const [to, at] of path) {
      const res = await transition(dep.id, { to, at, reason: `to ${to}` });
      expect(res.statusCode, `${to}: ${res.body}`).toBe(200);
      expect(res.json().state).toBe(to);
    }
    const detail = (await get(`/api/v1/deployments/${dep.id}`)).json();
    expect(detail.events.map((e: { from: string | null; to: string }) => [e.from, e.to])).toEqual([
      [null, 'trial'],
      ['trial', 'active'],
      ['active', 'past_due'],
      ['past_due', 'active'],
      ['active', 'paused'],
      ['paused', 'active'],
      ['active', 'suspended'],
      ['suspended', 'active'],
      ['active', 'cancelled'],
      ['cancelled', 'archived'],
    ]);
    expect(detail.events[1]).toMatchObject({ actor: 'test-user', reason: 'to active', at: '2026-11-02T00:00:00.000Z' });
  });

  it.each([
    ['trial', 'paused'],
    ['trial', 'trial'],
    ['trial', 'archived'],
  ])('refuses %s → %s with 422 invalid_transition naming both states', async (from, to) => {
    const dep = await createDeployment({ state: from });
    const res = await transition(dep.id, { to });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body).toMatchObject({ error: 'invalid_transition', details: { from, to } });
    expect(body.message).toContain(from);
    expect(body.message).toContain(to);
    const events = (await get(`/api/v1/deployments/${dep.id}`)).json().events;
    expect(events).toHaveLength(1);
  });

  it('refuses to leave archived and to go from cancelled anywhere but archived', async () => {
    const dep = await createDeployment({ state: 'active' });
    expect((await transition(dep.id, { to: 'cancelled' })).statusCode).toBe(200);
    const back = await transition(dep.id, { to: 'active' });
    expect(back.statusCode).toBe(422);
    expect(back.json().details).toEqual({ from: 'cancelled', to: 'active' });
    expect((await transition(dep.id, { to: 'archived' })).statusCode).toBe(200);
    const res = await transition(dep.id, { to: 'active' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'invalid_transition', details: { from: 'archived', to: 'active' } });
  });

  it('checks `at`: an offset is required, not in the future, not before the last event', async () => {
    const dep = await createDeployment({ state: 'active' });
    clock = new Date(clock.getTime() + 60 * 60 * 1000);

    const noOffset = await transition(dep.id, { to: 'paused', at: '2026-11-10T00:30:00' });
    expect(noOffset.statusCode).toBe(400);
    expect(noOffset.json().field).toBe('at');

    const future = await transition(dep.id, { to: 'paused', at: new Date(clock.getTime() + 1).toISOString() });
    expect(future.statusCode).toBe(422);
    expect(future.json().field).toBe('at');

    const beforeCreation = await transition(dep.id, { to: 'paused', at: new Date(new Date(dep.created_at).getTime() - 1).toISOString() });
    expect(beforeCreation.statusCode).toBe(422);
    expect(beforeCreation.json().field).toBe('at');

    const offset = await transition(dep.id, { to: 'paused', at: '2026-11-10T10:30:00+10:00' });
    expect(offset.statusCode).toBe(200);
    expect(offset.json().events.at(-1).at).toBe('2026-11-10T00:30:00.000Z');
  });

  it.each([
    ['missing to', {}, 'to'],
    ['unknown state', { to: 'deleted' }, 'to'],
    ['reason of the wrong type', { to: 'active', reason: 7 }, 'reason'],
  ])('rejects a body with %s naming the field', async (_label, payload, field) => {
    const dep = await createDeployment();
    const res = await transition(dep.id, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });

  it('answers 404 for an unknown deployment', async () => {
    const res = await transition('00000000-0000-4000-8000-000000000000', { to: 'active' });
    expect(res.statusCode).toBe(404);
  });

  it('serialises concurrent transitions: exactly one of identical requests wins', async () => {
    const dep = await createDeployment({ state: 'active' });
    const results = await Promise.all(Array.from({ length: 5 }, () => transition(dep.id, { to: 'paused' })));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 422, 422, 422, 422]);
    for (const r of results.filter((x) => x.statusCode === 422)) expect(r.json().details).toEqual({ from: 'paused', to: 'paused' });
    const events = (await get(`/api/v1/deployments/${dep.id}`)).json().events;
    expect(events.map((e: { to: string }) => e.to)).toEqual(['active', 'paused']);
  });

  it('lists events at the same instant in the order they were chained', async () => {
    const dep = await createDeployment({ state: 'active' });
    const at = clock.toISOString();
    for (const to of ['paused', 'active', 'cancelled', 'archived']) expect((await transition(dep.id, { to, at })).statusCode).toBe(200);
    const events = (await get(`/api/v1/deployments/${dep.id}`)).json().events;
    expect(events.map((e: { from: string | null; to: string }) => `${e.from}>${e.to}`)).toEqual([
      'null>active',
      'active>paused',
      'paused>active',
      'active>cancelled',
      'cancelled>archived',
    ]);
  });
});
