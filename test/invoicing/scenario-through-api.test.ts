// The whole month, end to end through the admin API: the catalog, a tenant, a deployment, its
// subscription and resources are created over HTTP, the timeline is moved by lifecycle
// transitions and a plan change, and month close bills exactly that.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { closeMonth } from '../../src/invoicing/month-close.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { useTestApp } from '../support/app.ts';

const ctx = useTestApp({ now: () => new Date('2026-05-03T00:00:00Z') });

async function post(url: string, payload: object) {
  const res = await ctx().app.inject({ method: 'POST', url, payload, headers: await ctx().auth('platform_admin') });
  if (res.statusCode >= 300) throw new Error(`${url} → ${res.statusCode} ${res.body}`);
  return res.json();
}

async function close(tenantId: string) {
  return closeMonth(
    { prisma: ctx().db.prisma, now: new Date('2026-05-03T00:00:00Z') },
    { runId: randomUUID(), period: parsePeriod('2026-04'), force: false, dryRun: false, tenantId, reason: null, requestedBy: 'test' },
  );
}

async function invoice(tenantId: string) {
  const list = await ctx().app.inject({ method: 'GET', url: `/api/v1/invoices?tenant_id=${tenantId}&period=2026-04`, headers: await ctx().auth('finance') });
  const [first] = list.json().data;
  if (!first) return null;
  return (await ctx().app.inject({ method: 'GET', url: `/api/v1/invoices/${first.id}`, headers: await ctx().auth('finance') })).json();
}

beforeAll(async () => {
  await post('/api/v1/plans', { code: 'studio', name: 'Studio' });
  await post('/api/v1/plans/studio/versions', { base_price_minor: 5000, currency: 'AUD', allowances: [{ resource_kind: 'droplet', included_hours: 1488, overage_unit_price: '0.01' }] });
  await post('/api/v1/plans/studio/versions', { base_price_minor: 8000, currency: 'AUD', allowances: [{ resource_kind: 'droplet', included_hours: 3000, overage_unit_price: '0.01' }] });
  await post('/api/v1/addons', { code: 'storage_50gb', name: 'Storage 50 GB', price_minor: 750, currency: 'AUD' });
});

describe('a month through the API', () => {
  it('bills the pilot scenario to the cent, and a later catalog price change does not reprice it', async () => {
    const tenant = await post('/api/v1/tenants', { name: 'Pilot', slug: 'pilot' });
    const deployment = await post('/api/v1/deployments', { tenant_id: tenant.id, slug: 'pilot', display_name: 'Pilot', region: 'syd1', state: 'active', created_at: '2026-03-01T00:00:00Z' });
    await post(`/api/v1/deployments/${deployment.id}/subscribe`, { plan_code: 'studio', plan_version: 1, addons: [{ code: 'storage_50gb', quantity: 1 }], effective_at: '2026-03-01T00:00:00Z' });
    for (const n of [1, 2, 3]) {
      await post('/api/v1/resources', { provider_resource_id: `pilot-${n}`, kind: 'droplet', name: `web-${n}`, deployment_id: deployment.id, created_at: '2026-03-15T00:00:00Z' });
    }
    await post('/api/v1/addons/storage_50gb/price', { price_minor: 990 });

    expect(await close(tenant.id)).toMatchObject({ created: 1, failed: 0 });
    const inv = await invoice(tenant.id);
    expect(inv.lines.map((l: { kind: string; amount: { amount_minor: number } }) => [l.kind, l.amount.amount_minor])).toEqual([
      ['plan_base', 5000],
      ['addon', 750],
      ['overage', 672],
      ['tax', 642],
    ]);
    expect(inv.total).toEqual({ amount_minor: 7064, currency: 'AUD', formatted: '70.64' });
  });

  it('does not bill the paused hours, bills each plan version for its hours, and stops at cancellation', async () => {
    const tenant = await post('/api/v1/tenants', { name: 'Mover', slug: 'mover' });
    const deployment = await post('/api/v1/deployments', { tenant_id: tenant.id, slug: 'app', display_name: 'App', region: 'syd1', state: 'active', created_at: '2026-03-01T00:00:00Z' });
    const url = `/api/v1/deployments/${deployment.id}`;
    await post(`${url}/subscribe`, { plan_code: 'studio', plan_version: 1, effective_at: '2026-03-01T00:00:00Z' });
    await post(`${url}/transition`, { to: 'paused', reason: 'customer request', at: '2026-04-06T00:00:00Z' }); // 5 days active
    await post(`${url}/transition`, { to: 'active', at: '2026-04-11T00:00:00Z' }); // 5 days paused
    await post(`${url}/subscribe`, { plan_code: 'studio', plan_version: 2, effective_at: '2026-04-16T00:00:00Z' }); // v1 5 more days
    await post(`${url}/transition`, { to: 'cancelled', at: '2026-04-26T00:00:00Z' }); // v2 10 days

    await close(tenant.id);
    const inv = await invoice(tenant.id);
    const base = inv.lines.filter((l: { kind: string }) => l.kind === 'plan_base').map((l: { amount: { amount_minor: number } }) => l.amount.amount_minor);
    // v1: 10 of 30 days of 5000 = 1667; v2: 10 of 30 days of 8000 = 2667.
    expect(base).toEqual([1667, 2667]);
    expect(inv.subtotal.amount_minor).toBe(4334);
    expect(inv.tax.amount_minor).toBe(433);
  });

  it('gives a tenant whose deployment was in trial all month no invoice', async () => {
    const tenant = await post('/api/v1/tenants', { name: 'Trialist', slug: 'trialist' });
    const deployment = await post('/api/v1/deployments', { tenant_id: tenant.id, slug: 'app', display_name: 'App', region: 'syd1', state: 'trial', created_at: '2026-04-01T00:00:00Z' });
    await post(`/api/v1/deployments/${deployment.id}/subscribe`, { plan_code: 'studio', effective_at: '2026-04-01T00:00:00Z', trial_ends_at: '2026-05-01T00:00:00Z' });
    expect(await close(tenant.id)).toMatchObject({ tenants: 0, created: 0 });
    expect(await invoice(tenant.id)).toBeNull();
  });
});
