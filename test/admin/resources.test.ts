import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.ts';

let clock = new Date('2026-11-20T00:00:00.000Z');
const ctx = useTestApp({ now: () => clock });

async function post(url: string, payload?: unknown) {
  return ctx().app.inject({
    method: 'POST',
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
    headers: await ctx().auth('platform_admin'),
  });
}
async function get(url: string) {
  return ctx().app.inject({ method: 'GET', url, headers: await ctx().auth('platform_admin') });
}

let deploymentId = '';
let n = 0;
const resource = (extra: Record<string, unknown> = {}) => {
  n += 1;
  return { provider_resource_id: `r-${n}`, kind: 'droplet', name: `droplet-${n}`, created_at: '2026-11-02T00:00:00Z', ...extra };
};

beforeAll(async () => {
  clock = new Date('2026-11-01T00:00:00.000Z');
  const tenant = (await post('/api/v1/tenants', { name: 'Acme', slug: 'acme' })).json();
  deploymentId = (await post('/api/v1/deployments', { tenant_id: tenant.id, slug: 'web', display_name: 'Web', region: 'syd1' })).json().id;
  clock = new Date('2026-11-20T00:00:00.000Z');
});

describe('POST /api/v1/resources', () => {
  it('records a resource with the default provider', async () => {
    const res = await post('/api/v1/resources', resource({ provider_resource_id: '12345', size: 's-1vcpu-1gb', deployment_id: deploymentId, created_at: '2026-11-02T10:00:00+10:00' }));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      provider: 'digitalocean',
      provider_resource_id: '12345',
      kind: 'droplet',
      size: 's-1vcpu-1gb',
      deployment_id: deploymentId,
      created_at: '2026-11-02T00:00:00.000Z',
      deleted_at: null,
    });
  });

  it('answers 409 naming provider_resource_id for the same provider id, and never overwrites', async () => {
    const first = await post('/api/v1/resources', resource({ provider_resource_id: 'vol-1', kind: 'volume', name: 'original' }));
    expect(first.statusCode).toBe(201);
    const dup = await post('/api/v1/resources', resource({ provider_resource_id: 'vol-1', kind: 'volume', name: 'changed' }));
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: 'resource_exists', field: 'provider_resource_id', details: { existing_id: first.json().id } });
    expect((await get(`/api/v1/resources/${first.json().id}`)).json().name).toBe('original');
    // The same id at another provider is another resource.
    expect((await post('/api/v1/resources', resource({ provider: 'aws', provider_resource_id: 'vol-1' }))).statusCode).toBe(201);
  });

  it('records exactly one row when the same resource is posted concurrently', async () => {
    const body = resource({ provider_resource_id: 'race-1' });
    const results = await Promise.all([post('/api/v1/resources', body), post('/api/v1/resources', body), post('/api/v1/resources', body)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
  });

  it('answers 422 naming deployment_id for an unknown deployment', async () => {
    const res = await post('/api/v1/resources', resource({ deployment_id: '00000000-0000-4000-8000-000000000000' }));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'deployment_not_found', field: 'deployment_id' });
  });

  it('answers 422 naming created_at when it is in the future', async () => {
    const res = await post('/api/v1/resources', resource({ created_at: '2026-11-20T00:00:01Z' }));
    expect(res.statusCode).toBe(422);
    expect(res.json().field).toBe('created_at');
  });

  it.each([
    ['missing provider_resource_id', { provider_resource_id: undefined }, 'provider_resource_id'],
    ['missing name', { name: undefined }, 'name'],
    ['missing created_at', { created_at: undefined }, 'created_at'],
    ['created_at without offset', { created_at: '2026-11-02 00:00:00' }, 'created_at'],
    ['an unknown kind', { kind: 'gpu' }, 'kind'],
    ['a malformed deployment_id', { deployment_id: 'web' }, 'deployment_id'],
    ['an upper-case provider', { provider: 'DigitalOcean' }, 'provider'],
    ['a numeric size', { size: 2 }, 'size'],
  ])('rejects %s naming the field', async (_label, extra, field) => {
    const res = await post('/api/v1/resources', resource(extra));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed', field });
  });
});

describe('GET /api/v1/resources', () => {
  it('filters by deployment and kind, and pages', async () => {
    await post('/api/v1/resources', resource({ kind: 'volume', deployment_id: deploymentId }));
    const byDeployment = (await get(`/api/v1/resources?deployment_id=${deploymentId}`)).json();
    expect(byDeployment.data.length).toBe(2);
    expect(byDeployment.data.every((r: { deployment_id: string }) => r.deployment_id === deploymentId)).toBe(true);
    const volumes = (await get(`/api/v1/resources?deployment_id=${deploymentId}&kind=volume`)).json();
    expect(volumes.data.map((r: { kind: string }) => r.kind)).toEqual(['volume']);

    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: { id: string }[]; next_cursor: string | null } = (await get(`/api/v1/resources?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
      all.push(...page.data.map((r) => r.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe((await get('/api/v1/resources?limit=200')).json().data.length);
  });

  it('rejects an unknown kind filter', async () => {
    const res = await get('/api/v1/resources?kind=gpu');
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('kind');
  });
});

describe('POST /api/v1/resources/:id/delete', () => {
  it('sets deleted_at (default now) and is idempotent', async () => {
    const created = (await post('/api/v1/resources', resource())).json();
    const res = await post(`/api/v1/resources/${created.id}/delete`);
    expect(res.statusCode).toBe(200);
    expect(res.json().deleted_at).toBe(clock.toISOString());

    clock = new Date(clock.getTime() + 60_000);
    const again = await post(`/api/v1/resources/${created.id}/delete`, {});
    expect(again.statusCode).toBe(200);
    expect(again.json().deleted_at).toBe(res.json().deleted_at);
    const same = await post(`/api/v1/resources/${created.id}/delete`, { deleted_at: res.json().deleted_at });
    expect(same.statusCode).toBe(200);

    const different = await post(`/api/v1/resources/${created.id}/delete`, { deleted_at: '2026-11-10T00:00:00Z' });
    expect(different.statusCode).toBe(409);
    expect(different.json()).toMatchObject({ error: 'resource_already_deleted', field: 'deleted_at' });
    expect((await get(`/api/v1/resources/${created.id}`)).json().deleted_at).toBe(res.json().deleted_at);
  });

  it('takes an explicit deleted_at, not before created_at and not in the future', async () => {
    const created = (await post('/api/v1/resources', resource({ created_at: '2026-11-05T00:00:00Z' }))).json();
    const before = await post(`/api/v1/resources/${created.id}/delete`, { deleted_at: '2026-11-04T23:59:59Z' });
    expect(before.statusCode).toBe(422);
    expect(before.json().field).toBe('deleted_at');
    const future = await post(`/api/v1/resources/${created.id}/delete`, { deleted_at: new Date(clock.getTime() + 1000).toISOString() });
    expect(future.statusCode).toBe(422);
    expect(future.json().field).toBe('deleted_at');
    const bad = await post(`/api/v1/resources/${created.id}/delete`, { deleted_at: 'yesterday' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('deleted_at');
    const ok = await post(`/api/v1/resources/${created.id}/delete`, { deleted_at: '2026-11-06T12:00:00+02:00' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().deleted_at).toBe('2026-11-06T10:00:00.000Z');
  });

  it('answers 404 for an unknown resource', async () => {
    expect((await post('/api/v1/resources/00000000-0000-4000-8000-000000000000/delete', {})).statusCode).toBe(404);
  });
});
