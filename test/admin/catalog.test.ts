import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.ts';

const ctx = useTestApp();

async function post(url: string, payload: unknown) {
  return ctx().app.inject({ method: 'POST', url, payload: payload as object, headers: await ctx().auth('platform_admin') });
}
async function get(url: string) {
  return ctx().app.inject({ method: 'GET', url, headers: await ctx().auth('platform_admin') });
}

const version = {
  base_price_minor: 4900,
  currency: 'AUD',
  allowances: [
    { resource_kind: 'droplet', included_hours: 744, overage_unit_price: '0.01' },
    { resource_kind: 'volume', included_hours: 0, overage_unit_price: '0.000000000001' },
  ],
};

describe('plans', () => {
  it('creates a plan with version 1 and returns money and decimals exactly', async () => {
    const res = await post('/api/v1/plans', { code: 'starter', name: 'Starter', version });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      code: 'starter',
      name: 'Starter',
      latest_version: 1,
      versions: [
        {
          version: 1,
          currency: 'AUD',
          base_price: { amount_minor: 4900, currency: 'AUD', formatted: '49.00' },
          allowances: [
            { resource_kind: 'droplet', included_hours: 744, overage_unit_price: '0.01' },
            { resource_kind: 'volume', included_hours: 0, overage_unit_price: '0.000000000001' },
          ],
        },
      ],
    });
  });

  it('creates a plan without versions, then numbered versions that are never updated', async () => {
    const plan = await post('/api/v1/plans', { code: 'growth', name: 'Growth' });
    expect(plan.statusCode).toBe(201);
    expect(plan.json()).toMatchObject({ latest_version: null, versions: [] });

    const v1 = await post('/api/v1/plans/growth/versions', { ...version, base_price_minor: 9900 });
    expect(v1.statusCode).toBe(201);
    expect(v1.json()).toMatchObject({ plan_code: 'growth', version: 1, base_price: { amount_minor: 9900 } });
    const v2 = await post('/api/v1/plans/growth/versions', { ...version, base_price_minor: 12900, allowances: [] });
    expect(v2.json()).toMatchObject({ version: 2, base_price: { amount_minor: 12900 }, allowances: [] });

    const read = (await get('/api/v1/plans/growth')).json();
    expect(read.latest_version).toBe(2);
    expect(read.versions.map((v: { version: number; base_price: { amount_minor: number } }) => [v.version, v.base_price.amount_minor])).toEqual([
      [1, 9900],
      [2, 12900],
    ]);
  });

  it('numbers concurrently created versions consecutively', async () => {
    await post('/api/v1/plans', { code: 'busy', name: 'Busy' });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => post('/api/v1/plans/busy/versions', { ...version, base_price_minor: 1000 + i })));
    expect(results.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(results.map((r) => r.json().version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('lists every plan with versions and allowances', async () => {
    const res = await get('/api/v1/plans');
    expect(res.statusCode).toBe(200);
    const codes = res.json().data.map((p: { code: string }) => p.code);
    expect(codes).toEqual([...codes].sort());
    expect(codes).toContain('starter');
    const starter = res.json().data.find((p: { code: string }) => p.code === 'starter');
    expect(starter.versions[0].allowances).toHaveLength(2);
  });

  it('answers 404 for an unknown plan and 409 naming code for a duplicate', async () => {
    expect((await get('/api/v1/plans/nope')).statusCode).toBe(404);
    const missing = await post('/api/v1/plans/nope/versions', version);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'plan_not_found', field: 'code' });
    const dup = await post('/api/v1/plans', { code: 'starter', name: 'Again' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: 'plan_code_taken', field: 'code' });
  });

  it('writes nothing when the version of a new plan is invalid', async () => {
    const res = await post('/api/v1/plans', { code: 'half', name: 'Half', version: { ...version, currency: 'ZZZ' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('version.currency');
    expect((await get('/api/v1/plans/half')).statusCode).toBe(404);
  });

  it.each([
    ['missing base_price_minor', { currency: 'AUD', allowances: [] }, 'base_price_minor'],
    ['negative base price', { ...version, base_price_minor: -1 }, 'base_price_minor'],
    ['fractional base price', { ...version, base_price_minor: 49.5 }, 'base_price_minor'],
    ['base price as a string', { ...version, base_price_minor: '4900' }, 'base_price_minor'],
    ['unknown currency', { ...version, currency: 'ABC' }, 'currency'],
    ['missing allowances', { base_price_minor: 1, currency: 'AUD' }, 'allowances'],
    ['unknown resource kind', { ...version, allowances: [{ resource_kind: 'gpu', included_hours: 1, overage_unit_price: '1' }] }, 'allowances.0.resource_kind'],
    ['negative included hours', { ...version, allowances: [{ resource_kind: 'droplet', included_hours: -1, overage_unit_price: '1' }] }, 'allowances.0.included_hours'],
    ['fractional included hours', { ...version, allowances: [{ resource_kind: 'droplet', included_hours: 1.5, overage_unit_price: '1' }] }, 'allowances.0.included_hours'],
    ['overage price as a number', { ...version, allowances: [{ resource_kind: 'droplet', included_hours: 1, overage_unit_price: 0.01 }] }, 'allowances.0.overage_unit_price'],
    ['negative overage price', { ...version, allowances: [{ resource_kind: 'droplet', included_hours: 1, overage_unit_price: '-0.01' }] }, 'allowances.0.overage_unit_price'],
    ['13 fractional digits', { ...version, allowances: [{ resource_kind: 'droplet', included_hours: 1, overage_unit_price: '0.0000000000001' }] }, 'allowances.0.overage_unit_price'],
    ['13 integer digits', { ...version, allowances: [{ resource_kind: 'droplet', included_hours: 1, overage_unit_price: '1000000000000' }] }, 'allowances.0.overage_unit_price'],
    ['not a decimal', { ...version, allowances: [{ resource_kind: 'droplet', included_hours: 1, overage_unit_price: 'cheap' }] }, 'allowances.0.overage_unit_price'],
    [
      'a kind listed twice',
      {
        ...version,
        allowances: [
          { resource_kind: 'droplet', included_hours: 1, overage_unit_price: '1' },
          { resource_kind: 'droplet', included_hours: 2, overage_unit_price: '1' },
        ],
      },
      'allowances.1.resource_kind',
    ],
  ])('rejects a version with %s naming the field', async (_label, payload, field) => {
    const res = await post('/api/v1/plans/starter/versions', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed', field });
  });

  it.each([
    ['missing code', { name: 'X' }, 'code'],
    ['code with spaces', { code: 'a b', name: 'X' }, 'code'],
    ['missing name', { code: 'x' }, 'name'],
  ])('rejects a plan with %s naming the field', async (_label, payload, field) => {
    const res = await post('/api/v1/plans', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });
});

describe('add-ons', () => {
  it('creates, lists and reprices an add-on in the catalog', async () => {
    const created = await post('/api/v1/addons', { code: 'backups', name: 'Backups', price_minor: 500, currency: 'AUD' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ code: 'backups', name: 'Backups', price: { amount_minor: 500, currency: 'AUD', formatted: '5.00' } });

    const repriced = await post('/api/v1/addons/backups/price', { price_minor: 750 });
    expect(repriced.statusCode).toBe(200);
    expect(repriced.json().price.amount_minor).toBe(750);
    expect(new Date(repriced.json().updated_at).getTime()).toBeGreaterThanOrEqual(new Date(created.json().updated_at).getTime());

    const list = (await get('/api/v1/addons')).json();
    expect(list.data.find((a: { code: string }) => a.code === 'backups').price.amount_minor).toBe(750);
    expect((await get('/api/v1/addons/backups')).json().price.amount_minor).toBe(750);
  });

  it('answers 409 naming code for a duplicate and 404 for an unknown add-on', async () => {
    await post('/api/v1/addons', { code: 'ipv6', name: 'IPv6', price_minor: 0, currency: 'AUD' });
    const dup = await post('/api/v1/addons', { code: 'ipv6', name: 'IPv6', price_minor: 0, currency: 'AUD' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: 'addon_code_taken', field: 'code' });
    const missing = await post('/api/v1/addons/nope/price', { price_minor: 1 });
    expect(missing.statusCode).toBe(404);
    expect((await get('/api/v1/addons/nope')).statusCode).toBe(404);
  });

  it.each([
    ['missing price', { code: 'a1', name: 'A', currency: 'AUD' }, 'price_minor'],
    ['negative price', { code: 'a1', name: 'A', price_minor: -5, currency: 'AUD' }, 'price_minor'],
    ['price as a decimal', { code: 'a1', name: 'A', price_minor: 5.5, currency: 'AUD' }, 'price_minor'],
    ['unknown currency', { code: 'a1', name: 'A', price_minor: 5, currency: 'DOGE' }, 'currency'],
    ['missing currency', { code: 'a1', name: 'A', price_minor: 5 }, 'currency'],
  ])('rejects an add-on with %s naming the field', async (_label, payload, field) => {
    const res = await post('/api/v1/addons', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });

  it('rejects a bad price change naming price_minor', async () => {
    await post('/api/v1/addons', { code: 'priced', name: 'P', price_minor: 5, currency: 'AUD' });
    for (const payload of [{}, { price_minor: -1 }, { price_minor: '7' }]) {
      const res = await post('/api/v1/addons/priced/price', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe('price_minor');
    }
  });
});
