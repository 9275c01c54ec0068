import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.ts';

const ctx = useTestApp();

async function post(url: string, payload: unknown) {
  return ctx().app.inject({ method: 'POST', url, payload: payload as object, headers: await ctx().auth('platform_admin') });
}
async function get(url: string) {
  return ctx().app.inject({ method: 'GET', url, headers: await ctx().auth('platform_admin') });
}

describe('POST /api/v1/tenants', () => {
  it('creates a tenant with the documented defaults', async () => {
    const res = await post('/api/v1/tenants', { name: 'Acme', slug: 'acme' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      name: 'Acme',
      slug: 'acme',
      billing_currency: 'AUD',
      tax_profile: { country: 'AU', gst_rate: '0.1' },
    });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(body.created_at).toISOString()).toBe(body.created_at);
  });

  it('keeps an explicit currency and tax profile exactly', async () => {
    const res = await post('/api/v1/tenants', {
      name: 'Kiwi',
      slug: 'kiwi-co',
      billing_currency: 'NZD',
      tax_profile: { country: 'NZ', gst_rate: '0.1500' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ billing_currency: 'NZD', tax_profile: { country: 'NZ', gst_rate: '0.15' } });

    const zero = await post('/api/v1/tenants', { name: 'Zero', slug: 'zero-rated', tax_profile: { gst_rate: '0' } });
    expect(zero.statusCode).toBe(201);
    expect(zero.json().tax_profile).toEqual({ country: 'AU', gst_rate: '0', effective_from: '1970-01-01T00:00:00.000Z' });
  });

  it('answers 409 naming slug on a duplicate', async () => {
    expect((await post('/api/v1/tenants', { name: 'One', slug: 'dup' })).statusCode).toBe(201);
    const res = await post('/api/v1/tenants', { name: 'Two', slug: 'dup' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: 'tenant_slug_taken', field: 'slug' });
  });

  it.each([
    ['missing name', { slug: 'a' }, 'name'],
    ['missing slug', { name: 'A' }, 'slug'],
    ['name of the wrong type', { name: 42, slug: 'a' }, 'name'],
    ['upper-case slug', { name: 'A', slug: 'Acme' }, 'slug'],
    ['slug with a space', { name: 'A', slug: 'ac me' }, 'slug'],
    ['unknown currency', { name: 'A', slug: 'a', billing_currency: 'XYZ' }, 'billing_currency'],
    ['lower-case currency', { name: 'A', slug: 'a', billing_currency: 'aud' }, 'billing_currency'],
    ['unknown country', { name: 'A', slug: 'a', tax_profile: { country: 'XX' } }, 'tax_profile.country'],
    ['reserved country code', { name: 'A', slug: 'a', tax_profile: { country: 'EU' } }, 'tax_profile.country'],
    ['gst rate of 1', { name: 'A', slug: 'a', tax_profile: { gst_rate: '1' } }, 'tax_profile.gst_rate'],
    ['negative gst rate', { name: 'A', slug: 'a', tax_profile: { gst_rate: '-0.1' } }, 'tax_profile.gst_rate'],
    ['gst rate with 5 digits', { name: 'A', slug: 'a', tax_profile: { gst_rate: '0.12345' } }, 'tax_profile.gst_rate'],
    ['gst rate as a number', { name: 'A', slug: 'a', tax_profile: { gst_rate: 0.1 } }, 'tax_profile.gst_rate'],
    ['gst rate in exponent form', { name: 'A', slug: 'a', tax_profile: { gst_rate: '1e-1' } }, 'tax_profile.gst_rate'],
  ])('rejects %s naming the field', async (_label, payload, field) => {
    const res = await post('/api/v1/tenants', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed', field });
  });

  it('rejects an unknown field rather than ignoring a typo', async () => {
    const res = await post('/api/v1/tenants', { name: 'A', slug: 'typo', billing_curency: 'USD' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('billing_curency');
  });

  it('rejects a body that is not JSON', async () => {
    const res = await ctx().app.inject({
      method: 'POST',
      url: '/api/v1/tenants',
      payload: '{"name": ',
      headers: { ...(await ctx().auth('platform_admin')), 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('(body)');
  });
});

describe('GET /api/v1/tenants', () => {
  it('pages through every tenant with next_cursor', async () => {
    for (let i = 0; i < 5; i += 1) expect((await post('/api/v1/tenants', { name: `Page ${i}`, slug: `page-${i}` })).statusCode).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/api/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((t: { slug: string }) => t.slug));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor && pages < 50);
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 0; i < 5; i += 1) expect(seen).toContain(`page-${i}`);
    const all = (await get('/api/v1/tenants')).json();
    expect(all.data.map((t: { slug: string }) => t.slug)).toEqual(seen);
    expect(all.next_cursor).toBeNull();
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=abc', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
  ])('rejects %s naming the field', async (query, field) => {
    const res = await get(`/api/v1/tenants?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });

  it('gets one tenant, 404 for an unknown id and 400 for a malformed one', async () => {
    const created = (await post('/api/v1/tenants', { name: 'Solo', slug: 'solo' })).json();
    const res = await get(`/api/v1/tenants/${created.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(created);
    expect((await get('/api/v1/tenants/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    const bad = await get('/api/v1/tenants/nope');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('id');
  });
});

describe('tenant billing details and tax profiles', () => {
  async function patch(id: string, payload: unknown) {
    return ctx().app.inject({ method: 'PATCH', url: `/api/v1/tenants/${id}`, payload: payload as object, headers: await ctx().auth('platform_admin') });
  }

  it('creates and changes legal name, ABN (check digit verified), billing email and address', async () => {
    const created = await post('/api/v1/tenants', { name: 'Abn Co', slug: 'abn-co', legal_name: 'Abn Co Pty Ltd', abn: '51 824 753 556', billing_email: 'ap@abn.example' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ legal_name: 'Abn Co Pty Ltd', abn: '51 824 753 556', billing_email: 'ap@abn.example', billing_address: null });
    const id = created.json().id;

    const changed = await patch(id, { billing_address: '2 Example Road, Melbourne VIC 3000', abn: '53004085616' });
    expect(changed.json()).toMatchObject({ outcome: 'updated', abn: '53 004 085 616', billing_address: '2 Example Road, Melbourne VIC 3000', legal_name: 'Abn Co Pty Ltd' });
    const same = await patch(id, { billing_address: '2 Example Road, Melbourne VIC 3000' });
    expect(same.json()).toMatchObject({ outcome: 'unchanged', updated_at: changed.json().updated_at });
    expect((await patch(id, { abn: null })).json().abn).toBeNull();
  });

  it.each([
    ['a wrong ABN check digit', { abn: '51 824 753 557' }, 'abn'],
    ['an ABN of 10 digits', { abn: '5182475355' }, 'abn'],
    ['a bad email', { billing_email: 'not-an-email' }, 'billing_email'],
    ['an unknown field', { tax_rate: '0.1' }, 'tax_rate'],
    ['a bad currency', { billing_currency: 'aud' }, 'billing_currency'],
  ])('refuses %s naming the field and changes nothing', async (_label, payload, field) => {
    const created = (await post('/api/v1/tenants', { name: 'Bad', slug: `bad-${field.replaceAll('_', '-')}-${Math.random().toString(36).slice(2, 8)}` })).json();
    const res = await patch(created.id, payload);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json().field).toBe(field);
    const after = (await get(`/api/v1/tenants/${created.id}`)).json();
    expect(after).toEqual(created);
  });

  it('changes the billing currency only while the tenant has no invoice', async () => {
    const created = (await post('/api/v1/tenants', { name: 'Fx', slug: 'fx-change' })).json();
    expect((await patch(created.id, { billing_currency: 'NZD' })).json().billing_currency).toBe('NZD');
    await ctx().db.prisma.tenantInvoice.create({
      data: { tenantId: created.id, periodStart: new Date('2026-04-01T00:00:00Z'), periodEnd: new Date('2026-05-01T00:00:00Z'), currency: 'NZD', taxRate: '0.15', subtotalMinor: 0n, taxMinor: 0n, totalMinor: 0n, inputs: {}, inputsHash: 'h', computedAt: new Date() },
    });
    const refused = await patch(created.id, { billing_currency: 'AUD' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ field: 'billing_currency' });
    expect((await get(`/api/v1/tenants/${created.id}`)).json().billing_currency).toBe('NZD');
  });

  it('adds effective-dated tax profiles; the current one is the latest in force', async () => {
    const created = (await post('/api/v1/tenants', { name: 'Gst', slug: 'gst-dated' })).json();
    const added = await post(`/api/v1/tenants/${created.id}/tax-profiles`, { country: 'AU', gst_rate: '0.125', effective_from: '2030-01-01T00:00:00Z' });
    expect(added.statusCode).toBe(201);
    expect(added.json().tax_profiles).toEqual([
      { country: 'AU', gst_rate: '0.1', effective_from: '1970-01-01T00:00:00.000Z' },
      { country: 'AU', gst_rate: '0.125', effective_from: '2030-01-01T00:00:00.000Z' },
    ]);
    // Not yet in force today.
    expect(added.json().tax_profile).toEqual({ country: 'AU', gst_rate: '0.1', effective_from: '1970-01-01T00:00:00.000Z' });
    const duplicate = await post(`/api/v1/tenants/${created.id}/tax-profiles`, { country: 'AU', gst_rate: '0.15', effective_from: '2030-01-01T00:00:00Z' });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().field).toBe('effective_from');
    for (const [payload, field] of [
      [{ country: 'AU', gst_rate: '1.5', effective_from: '2030-02-01T00:00:00Z' }, 'gst_rate'],
      [{ country: 'XX', gst_rate: '0.1', effective_from: '2030-02-01T00:00:00Z' }, 'country'],
      [{ country: 'AU', gst_rate: '0.1', effective_from: '2030-02-01' }, 'effective_from'],
      [{ country: 'AU', gst_rate: '0.1' }, 'effective_from'],
    ] as const) {
      const res = await post(`/api/v1/tenants/${created.id}/tax-profiles`, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe(field);
    }
    expect(await ctx().db.prisma.tenantTaxProfile.count({ where: { tenantId: created.id } })).toBe(2);
    expect((await post(`/api/v1/tenants/00000000-0000-4000-8000-000000000000/tax-profiles`, { country: 'AU', gst_rate: '0.1', effective_from: '2030-02-01T00:00:00Z' })).statusCode).toBe(404);
  });
});
