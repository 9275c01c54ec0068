import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.ts';

// Frozen, movable clock: every instant below is explicit.
let clock = new Date('2026-11-01T00:00:00.000Z');
const ctx = useTestApp({ now: () => clock });
const setClock = (iso: string) => {
  clock = new Date(iso);
};

async function post(url: string, payload: unknown) {
  return ctx().app.inject({ method: 'POST', url, payload: payload as object, headers: await ctx().auth('platform_admin') });
}
async function get(url: string) {
  return ctx().app.inject({ method: 'GET', url, headers: await ctx().auth('platform_admin') });
}

let tenantId = '';
let counter = 0;

/** A deployment created at the current clock. */
async function deployment(state: 'trial' | 'active' = 'active') {
  counter += 1;
  const res = await post('/api/v1/deployments', { tenant_id: tenantId, slug: `d-${counter}`, display_name: `D ${counter}`, region: 'syd1', state });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

async function subscribe(deploymentId: string, payload: Record<string, unknown>) {
  return post(`/api/v1/deployments/${deploymentId}/subscribe`, payload);
}

async function detail(deploymentId: string) {
  return (await get(`/api/v1/deployments/${deploymentId}`)).json();
}

type Segment = { plan_code: string; plan_version: number; status: string; valid_from: string; valid_to: string | null };
const spans = (segments: Segment[]) => segments.map((s) => [s.plan_code, s.plan_version, s.status, s.valid_from, s.valid_to]);

beforeAll(async () => {
  setClock('2026-11-01T00:00:00.000Z');
  tenantId = (await post('/api/v1/tenants', { name: 'Acme', slug: 'acme' })).json().id;
  const allowances = [{ resource_kind: 'droplet', included_hours: 744, overage_unit_price: '0.01' }];
  for (const body of [
    { code: 'basic', name: 'Basic', version: { base_price_minor: 4900, currency: 'AUD', allowances } },
    { code: 'pro', name: 'Pro', version: { base_price_minor: 9900, currency: 'AUD', allowances } },
    { code: 'us-plan', name: 'US', version: { base_price_minor: 1000, currency: 'USD', allowances: [] } },
    { code: 'empty', name: 'No versions yet' },
  ]) {
    expect((await post('/api/v1/plans', body)).statusCode).toBe(201);
  }
  expect((await post('/api/v1/plans/pro/versions', { base_price_minor: 10900, currency: 'AUD', allowances })).statusCode).toBe(201);
  for (const body of [
    { code: 'backups', name: 'Backups', price_minor: 500, currency: 'AUD' },
    { code: 'monitoring', name: 'Monitoring', price_minor: 300, currency: 'AUD' },
    { code: 'us-support', name: 'US support', price_minor: 100, currency: 'USD' },
  ]) {
    expect((await post('/api/v1/addons', body)).statusCode).toBe(201);
  }
});

describe('creating a subscription', () => {
  it('creates it with a first segment, the calendar month, a default trial and add-on snapshots', async () => {
    setClock('2026-11-03T09:00:00.000Z');
    const id = await deployment('trial');
    setClock('2026-11-05T00:00:00.000Z');
    const res = await subscribe(id, {
      plan_code: 'basic',
      addons: [{ code: 'backups', quantity: 2 }],
      effective_at: '2026-11-03T10:00:00Z',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      deployment_id: id,
      status: 'active',
      plan: { code: 'basic', version: 1 },
      started_at: '2026-11-03T10:00:00.000Z',
      ended_at: null,
      current_period_start: '2026-11-01T00:00:00.000Z',
      current_period_end: '2026-12-01T00:00:00.000Z',
      trial_ends_at: '2026-11-17T10:00:00.000Z',
      segments: [
        {
          plan_code: 'basic',
          plan_version: 1,
          status: 'active',
          valid_from: '2026-11-03T10:00:00.000Z',
          valid_to: null,
          base_price: { amount_minor: 4900, currency: 'AUD', formatted: '49.00' },
        },
      ],
      addons: [
        {
          code: 'backups',
          name: 'Backups',
          quantity: 2,
          unit_price: { amount_minor: 500, currency: 'AUD', formatted: '5.00' },
          attached_at: '2026-11-03T10:00:00.000Z',
          detached_at: null,
        },
      ],
    });
    // The deployment shows the same subscription.
    expect((await detail(id)).subscription).toEqual(res.json());
  });

  it('defaults to the latest plan version and now; no trial for an active deployment', async () => {
    setClock('2026-11-05T00:00:00.000Z');
    const id = await deployment('active');
    const res = await subscribe(id, { plan_code: 'pro' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ plan: { code: 'pro', version: 2 }, started_at: clock.toISOString(), trial_ends_at: null, addons: [] });
  });

  it('keeps an explicit trial_ends_at and an explicit plan_version', async () => {
    const id = await deployment('trial');
    const res = await subscribe(id, { plan_code: 'pro', plan_version: 1, trial_ends_at: '2026-12-01T00:00:00+00:00' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ plan: { code: 'pro', version: 1 }, trial_ends_at: '2026-12-01T00:00:00.000Z' });
  });

  it.each([
    ['an unknown plan', { plan_code: 'gold' }, 422, 'plan_code', 'plan_not_found'],
    ['a plan without versions', { plan_code: 'empty' }, 422, 'plan_code', 'plan_version_not_found'],
    ['an unknown plan version', { plan_code: 'pro', plan_version: 9 }, 422, 'plan_version', 'plan_version_not_found'],
    ['a plan in another currency', { plan_code: 'us-plan' }, 422, 'plan_code', 'currency_mismatch'],
    ['an unknown add-on', { plan_code: 'basic', addons: [{ code: 'nope', quantity: 1 }] }, 422, 'addons.0.code', 'addon_not_found'],
    [
      'an add-on in another currency',
      { plan_code: 'basic', addons: [{ code: 'backups', quantity: 1 }, { code: 'us-support', quantity: 1 }] },
      422,
      'addons.1.code',
      'currency_mismatch',
    ],
    ['an add-on listed twice', { plan_code: 'basic', addons: [{ code: 'backups', quantity: 1 }, { code: 'backups', quantity: 2 }] }, 400, 'addons.1.code', 'validation_failed'],
    ['quantity 0', { plan_code: 'basic', addons: [{ code: 'backups', quantity: 0 }] }, 400, 'addons.0.quantity', 'validation_failed'],
    ['a fractional quantity', { plan_code: 'basic', addons: [{ code: 'backups', quantity: 1.5 }] }, 400, 'addons.0.quantity', 'validation_failed'],
    ['a missing plan_code', { addons: [] }, 400, 'plan_code', 'validation_failed'],
    ['plan_version as a string', { plan_code: 'pro', plan_version: '2' }, 400, 'plan_version', 'validation_failed'],
    ['effective_at without offset', { plan_code: 'basic', effective_at: '2026-11-05T00:00:00' }, 400, 'effective_at', 'validation_failed'],
    ['effective_at in the future', { plan_code: 'basic', effective_at: '2026-11-05T00:00:01Z' }, 422, 'effective_at', 'validation_failed'],
    ['effective_at before the deployment existed', { plan_code: 'basic', effective_at: '2026-11-04T23:59:59Z' }, 422, 'effective_at', 'validation_failed'],
    ['trial_ends_at before effective_at', { plan_code: 'basic', trial_ends_at: '2026-11-04T00:00:00Z' }, 422, 'trial_ends_at', 'validation_failed'],
  ])('refuses %s naming the field and writes nothing', async (_label, payload, status, field, error) => {
    setClock('2026-11-05T00:00:00.000Z');
    const id = await deployment('active');
    const res = await subscribe(id, payload);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error, field });
    expect((await detail(id)).subscription).toBeNull();
  });

  it('answers 404 for an unknown deployment and 422 for a cancelled one', async () => {
    expect((await subscribe('00000000-0000-4000-8000-000000000000', { plan_code: 'basic' })).statusCode).toBe(404);
    const id = await deployment('active');
    expect((await post(`/api/v1/deployments/${id}/transition`, { to: 'cancelled' })).statusCode).toBe(200);
    const res = await subscribe(id, { plan_code: 'basic' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'deployment_not_subscribable', details: { state: 'cancelled' } });
  });

  it('creates exactly one subscription when two subscribes race', async () => {
    const id = await deployment('active');
    const results = await Promise.all([
      subscribe(id, { plan_code: 'basic', addons: [{ code: 'backups', quantity: 1 }] }),
      subscribe(id, { plan_code: 'basic', addons: [{ code: 'backups', quantity: 1 }] }),
      subscribe(id, { plan_code: 'basic', addons: [{ code: 'backups', quantity: 1 }] }),
    ]);
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.every((c) => c === 200 || c === 201 || c === 409)).toBe(true);
    const prisma = ctx().db.prisma;
    expect(await prisma.subscription.count({ where: { deploymentId: id } })).toBe(1);
    const sub = await prisma.subscription.findUniqueOrThrow({ where: { deploymentId: id }, include: { segments: true, addons: true } });
    expect(sub.segments).toHaveLength(1);
    expect(sub.addons).toHaveLength(1);
  });
});

describe('the timeline follows the deployment lifecycle', () => {
  it('pauses, resumes and cancels: segments close and open at the transition instants', async () => {
    setClock('2026-11-01T00:00:00.000Z');
    const id = await deployment('active');
    expect((await subscribe(id, { plan_code: 'basic', addons: [{ code: 'monitoring', quantity: 1 }] })).statusCode).toBe(201);

    setClock('2026-11-30T00:00:00.000Z');
    for (const [to, at] of [
      ['past_due', '2026-11-05T00:00:00Z'], // still billed: no new segment
      ['suspended', '2026-11-08T00:00:00Z'],
      ['active', '2026-11-12T06:00:00Z'],
      ['paused', '2026-11-20T00:00:00Z'],
      ['cancelled', '2026-11-25T00:00:00Z'],
    ]) {
      const res = await post(`/api/v1/deployments/${id}/transition`, { to, at });
      expect(res.statusCode, res.body).toBe(200);
    }
    const sub = (await detail(id)).subscription;
    expect(spans(sub.segments)).toEqual([
      ['basic', 1, 'active', '2026-11-01T00:00:00.000Z', '2026-11-08T00:00:00.000Z'],
      ['basic', 1, 'paused', '2026-11-08T00:00:00.000Z', '2026-11-12T06:00:00.000Z'],
      ['basic', 1, 'active', '2026-11-12T06:00:00.000Z', '2026-11-20T00:00:00.000Z'],
      ['basic', 1, 'paused', '2026-11-20T00:00:00.000Z', '2026-11-25T00:00:00.000Z'],
    ]);
    expect(sub).toMatchObject({ status: 'cancelled', ended_at: '2026-11-25T00:00:00.000Z' });
    expect(sub.addons).toMatchObject([{ code: 'monitoring', detached_at: '2026-11-25T00:00:00.000Z' }]);

    // Archiving a cancelled deployment changes nothing on the timeline.
    expect((await post(`/api/v1/deployments/${id}/transition`, { to: 'archived', at: '2026-11-26T00:00:00Z' })).statusCode).toBe(200);
    expect((await detail(id)).subscription.segments).toHaveLength(4);
  });

  it('subscribes a paused deployment as paused', async () => {
    setClock('2026-11-30T00:00:00.000Z');
    const id = await deployment('active');
    expect((await post(`/api/v1/deployments/${id}/transition`, { to: 'paused' })).statusCode).toBe(200);
    const res = await subscribe(id, { plan_code: 'basic' });
    expect(res.json()).toMatchObject({ status: 'paused', segments: [{ status: 'paused', valid_to: null }] });
  });

  it('changes the status in place when the transition is at the open segment start (no zero-length segment)', async () => {
    setClock('2026-11-30T00:00:00.000Z');
    const id = await deployment('active');
    expect((await subscribe(id, { plan_code: 'basic' })).statusCode).toBe(201);
    expect((await post(`/api/v1/deployments/${id}/transition`, { to: 'paused' })).statusCode).toBe(200);
    const sub = (await detail(id)).subscription;
    expect(spans(sub.segments)).toEqual([['basic', 1, 'paused', '2026-11-30T00:00:00.000Z', null]]);
    expect(sub.status).toBe('paused');
  });

  it('ends the trial early when a trial deployment becomes active', async () => {
    setClock('2026-11-01T00:00:00.000Z');
    const id = await deployment('trial');
    const created = (await subscribe(id, { plan_code: 'basic' })).json();
    expect(created.trial_ends_at).toBe('2026-11-15T00:00:00.000Z');
    setClock('2026-11-30T00:00:00.000Z');
    expect((await post(`/api/v1/deployments/${id}/transition`, { to: 'active', at: '2026-11-04T12:00:00Z' })).statusCode).toBe(200);
    const sub = (await detail(id)).subscription;
    expect(sub.trial_ends_at).toBe('2026-11-04T12:00:00.000Z');
    expect(sub.segments).toHaveLength(1);
  });

  it('refuses a transition dated before the subscription began', async () => {
    setClock('2026-11-01T00:00:00.000Z');
    const id = await deployment('active');
    setClock('2026-11-10T00:00:00.000Z');
    expect((await subscribe(id, { plan_code: 'basic', effective_at: '2026-11-05T00:00:00Z' })).statusCode).toBe(201);
    const res = await post(`/api/v1/deployments/${id}/transition`, { to: 'paused', at: '2026-11-03T00:00:00Z' });
    expect(res.statusCode).toBe(422);
    expect(res.json().field).toBe('at');
  });
});

describe('changing a subscription', () => {
  it('a mid-month plan change makes two segments meeting at effective_at', async () => {
    setClock('2026-11-01T00:00:00.000Z');
    const id = await deployment('active');
    expect((await subscribe(id, { plan_code: 'pro', plan_version: 1 })).statusCode).toBe(201);
    setClock('2026-11-20T00:00:00.000Z');
    const res = await subscribe(id, { plan_code: 'pro', plan_version: 2, effective_at: '2026-11-16T00:00:00Z' });
    expect(res.statusCode).toBe(200);
    expect(res.json().plan).toMatchObject({ code: 'pro', version: 2 });
    expect(spans(res.json().segments)).toEqual([
      ['pro', 1, 'active', '2026-11-01T00:00:00.000Z', '2026-11-16T00:00:00.000Z'],
      ['pro', 2, 'active', '2026-11-16T00:00:00.000Z', null],
    ]);
    expect(res.json().segments.map((s: { base_price: { amount_minor: number } }) => s.base_price.amount_minor)).toEqual([9900, 10900]);

    // Moving to another plan at the open segment's own start corrects it in place.
    const again = await subscribe(id, { plan_code: 'basic', effective_at: '2026-11-16T00:00:00Z' });
    expect(spans(again.json().segments)).toEqual([
      ['pro', 1, 'active', '2026-11-01T00:00:00.000Z', '2026-11-16T00:00:00.000Z'],
      ['basic', 1, 'active', '2026-11-16T00:00:00.000Z', null],
    ]);
    // The subscription's own start and period do not move.
    expect(again.json()).toMatchObject({ started_at: '2026-11-01T00:00:00.000Z', current_period_start: '2026-11-01T00:00:00.000Z' });
  });

  it('without plan_version an unchanged plan keeps its version; the same request twice changes nothing', async () => {
    setClock('2026-11-01T00:00:00.000Z');
    const id = await deployment('active');
    expect((await subscribe(id, { plan_code: 'pro', plan_version: 1 })).statusCode).toBe(201);
    setClock('2026-11-02T00:00:00.000Z');
    const res = await subscribe(id, { plan_code: 'pro' });
    expect(res.statusCode).toBe(200);
    expect(res.json().plan.version).toBe(1);
    expect(res.json().segments).toHaveLength(1);
  });

  it('refuses an effective_at before the open segment began and a trial_ends_at change', async () => {
    setClock('2026-11-01T00:00:00.000Z');
    const id = await deployment('trial');
    setClock('2026-11-10T00:00:00.000Z');
    expect((await subscribe(id, { plan_code: 'basic', effective_at: '2026-11-05T00:00:00Z' })).statusCode).toBe(201);
    const early = await subscribe(id, { plan_code: 'pro', effective_at: '2026-11-04T00:00:00Z' });
    expect(early.statusCode).toBe(422);
    expect(early.json().field).toBe('effective_at');
    const trial = await subscribe(id, { plan_code: 'basic', trial_ends_at: '2026-12-31T00:00:00Z' });
    expect(trial.statusCode).toBe(422);
    expect(trial.json().field).toBe('trial_ends_at');
  });

  it('keeps the add-on snapshot through a catalog price change and reprices only new attachments', async () => {
    setClock('2026-11-01T00:00:00.000Z');
    await post('/api/v1/addons', { code: 'snap', name: 'Snapshot add-on', price_minor: 1000, currency: 'AUD' });
    await post('/api/v1/addons', { code: 'later', name: 'Later add-on', price_minor: 200, currency: 'AUD' });
    const id = await deployment('active');
    const other = await deployment('active');
    expect((await subscribe(id, { plan_code: 'basic', addons: [{ code: 'snap', quantity: 1 }] })).statusCode).toBe(201);

    setClock('2026-11-10T00:00:00.000Z');
    const repriced = await post('/api/v1/addons/snap/price', { price_minor: 1500 });
    expect(repriced.json().price.amount_minor).toBe(1500);

    // The existing subscriber keeps 10.00.
    let sub = (await detail(id)).subscription;
    expect(sub.addons).toMatchObject([{ code: 'snap', unit_price: { amount_minor: 1000 }, detached_at: null }]);

    // A new subscriber gets 15.00.
    const fresh = await subscribe(other, { plan_code: 'basic', addons: [{ code: 'snap', quantity: 1 }] });
    expect(fresh.json().addons).toMatchObject([{ code: 'snap', unit_price: { amount_minor: 1500 } }]);

    // Changing only the quantity keeps 10.00: old row detached, new row attached at effective_at.
    setClock('2026-11-15T00:00:00.000Z');
    const qty = await subscribe(id, { plan_code: 'basic', addons: [{ code: 'snap', quantity: 3 }, { code: 'later', quantity: 1 }] });
    expect(qty.statusCode).toBe(200);
    sub = qty.json();
    expect(
      sub.addons.map((a: { code: string; quantity: number; unit_price: { amount_minor: number }; attached_at: string; detached_at: string | null }) => [
        a.code,
        a.quantity,
        a.unit_price.amount_minor,
        a.attached_at,
        a.detached_at,
      ]),
    ).toEqual([
      ['snap', 1, 1000, '2026-11-01T00:00:00.000Z', '2026-11-15T00:00:00.000Z'],
      ['later', 1, 200, '2026-11-15T00:00:00.000Z', null],
      ['snap', 3, 1000, '2026-11-15T00:00:00.000Z', null],
    ]);

    // Omitting addons leaves them alone; an empty list detaches everything.
    setClock('2026-11-20T00:00:00.000Z');
    expect((await subscribe(id, { plan_code: 'basic' })).json().addons.filter((a: { detached_at: string | null }) => a.detached_at === null)).toHaveLength(2);
    const cleared = (await subscribe(id, { plan_code: 'basic', addons: [] })).json();
    expect(cleared.addons.filter((a: { detached_at: string | null }) => a.detached_at === null)).toHaveLength(0);
    expect(cleared.addons.filter((a: { detached_at: string | null }) => a.detached_at === '2026-11-20T00:00:00.000Z')).toHaveLength(2);
  });

  it('never writes a zero-length segment or an add-on row detached before it was attached', async () => {
    const prisma = ctx().db.prisma;
    const segments = await prisma.subscriptionSegment.findMany();
    expect(segments.length).toBeGreaterThan(0);
    for (const s of segments) if (s.validTo) expect(s.validTo.getTime()).toBeGreaterThan(s.validFrom.getTime());
    const addons = await prisma.subscriptionAddon.findMany();
    for (const a of addons) if (a.detachedAt) expect(a.detachedAt.getTime()).toBeGreaterThanOrEqual(a.attachedAt.getTime());
    // At most one open segment per subscription.
    const open = await prisma.subscriptionSegment.groupBy({ by: ['subscriptionId'], where: { validTo: null }, _count: true });
    for (const g of open) expect(g._count).toBe(1);
  });
});
