// Margin per tenant and cost reconciliation on a real database: two tenants in different
// currencies, matched, unowned and unmatched costs, a provider invoice with a credit and GST
// (ingested through the real sync and ingest code from a stand-in provider on 127.0.0.1), an
// adjustment note moving revenue, a void invoice left out, a missing FX rate. Every figure is
// checked against an independent calculation below (plain bigint arithmetic, not the app's helpers).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseHtml } from 'node-html-parser';
import { ingestInvoice } from '../../src/costs/ingest-invoice.ts';
import { syncBillingHistory } from '../../src/costs/sync-billing-history.ts';
import { useTestApp } from '../support/app.ts';
import { seedTenant } from '../support/seed.ts';
import { seedAdjustmentNote, seedInvoice } from '../support/invoices.ts';
import { addInvoice, csvOf, csvRow, startFakeProvider, type FakeProvider } from '../costs/fakes.ts';

const ctx = useTestApp();
let fake: FakeProvider;

// ---- independent arithmetic: values as bigint at scale 12 (10^-12 units)
const S = 10n ** 12n;
const dec = (s: string): bigint => {
  const [w, f = ''] = s.replace('-', '').split('.');
  const v = BigInt(w!) * S + BigInt(f.padEnd(12, '0'));
  return s.startsWith('-') ? -v : v;
};
const mul = (a: bigint, b: bigint) => (a * b) / S; // exact here: inputs have ≤ 6 decimals each
const roundTo = (v: bigint, digits: number): bigint => {
  const unit = 10n ** BigInt(12 - digits);
  const q = (2n * (v < 0n ? -v : v) + unit) / (2n * unit);
  return v < 0n ? -q : q;
};
const cents = (v: bigint) => {
  const c = roundTo(v, 2);
  const a = c < 0n ? -c : c;
  return `${c < 0n ? '-' : ''}${a / 100n}.${(a % 100n).toString().padStart(2, '0')}`;
};
const exact = (v: bigint) => {
  const a = v < 0n ? -v : v;
  const f = (a % S).toString().padStart(12, '0').replace(/0+$/, '');
  return `${v < 0n ? '-' : ''}${a / S}${f ? `.${f}` : ''}`;
};
const pct = (margin: bigint, revenue: bigint) => {
  const tenths = roundTo((margin * 1000n * S) / revenue / 1n, 0) / 1n; // margin/revenue*1000 at scale 12 → round to integer tenths
  const a = tenths < 0n ? -tenths : tenths;
  return `${tenths < 0n ? '-' : ''}${a / 10n}.${a % 10n}`;
};

const USD_AUD = '1.523456';
const EUR_AUD = '1.6543';
const r = dec(USD_AUD);

let alpha: { id: string };
let beta: { id: string };
const dep: Record<string, string> = {};

beforeAll(async () => {
  fake = await startFakeProvider();
  const { prisma } = ctx().db;
  alpha = await seedTenant(prisma, { slug: 'alpha' });
  beta = await seedTenant(prisma, { slug: 'beta', currency: 'EUR' });
  for (const [key, tenantId, slug] of [['a1', alpha.id, 'prod'], ['a2', alpha.id, 'staging'], ['b1', beta.id, 'api']] as const) {
    dep[key] = (await prisma.deployment.create({ data: { tenantId, slug, displayName: slug, region: 'syd1' } })).id;
  }
  const resource = (kind: string, name: string, deploymentId: string | null) =>
    prisma.cloudResource.create({ data: { provider: 'digitalocean', providerResourceId: randomUUID(), kind, name, deploymentId, createdAt: new Date('2026-01-01T00:00:00Z') } });
  await resource('droplet', 'alpha-web', dep.a1!);
  await resource('volume', 'alpha-data', dep.a2!);
  await resource('droplet', 'beta-api', dep.b1!);
  await resource('droplet', 'orphan-1', null);

  // Revenue: alpha (AUD) issued + a void one (ignored) + an adjustment note; beta (EUR).
  const inv = await seedInvoice(prisma, {
    tenantId: alpha.id,
    period: '2026-04',
    taxMinor: 655n,
    lines: [
      { kind: 'plan_base', deploymentId: dep.a1, description: 'Plan', amountMinor: 5000n },
      { kind: 'overage', deploymentId: dep.a1, description: 'Overage', amountMinor: 672n },
      { kind: 'addon', deploymentId: dep.a2, description: 'Storage', amountMinor: 750n },
      { kind: 'llm_usage', deploymentId: dep.a2, description: 'LLM', amountMinor: 125n },
    ],
  });
  await seedInvoice(prisma, { tenantId: alpha.id, period: '2026-04', status: 'void', taxMinor: 1000n, lines: [{ kind: 'plan_base', deploymentId: dep.a1, description: 'Plan', amountMinor: 99999n }] });
  await seedAdjustmentNote(prisma, {
    invoiceId: inv.id,
    taxDeltaMinor: -58n,
    lines: [
      { kind: 'llm_usage', deploymentId: dep.a2, description: 'LLM', oldAmountMinor: 125n, newAmountMinor: 300n },
      { kind: 'addon', deploymentId: dep.a2, description: 'Storage', oldAmountMinor: 750n, newAmountMinor: 0n },
    ],
  });
  await seedInvoice(prisma, { tenantId: beta.id, period: '2026-04', currency: 'EUR', taxMinor: 1000n, lines: [{ kind: 'plan_base', deploymentId: dep.b1, description: 'Plan', amountMinor: 10000n }] });
  // A March invoice: another period, never counted.
  await seedInvoice(prisma, { tenantId: beta.id, period: '2026-03', currency: 'EUR', taxMinor: 100n, lines: [{ kind: 'plan_base', deploymentId: dep.b1, description: 'Plan', amountMinor: 1000n }] });

  // Cost: two provider invoices for April 2026, through the real sync and ingest.
  const row = (product: string, description: string, usd: string) => csvRow({ product, description, usd, period: '2026-04' });
  addInvoice(fake, {
    uuid: 'apr-1',
    invoiceId: '9001',
    period: '2026-04',
    amount: '48.303456',
    csv: csvOf([
      row('Droplets', 'alpha-web (s-1vcpu-1gb)', '$10.123456'),
      row('Volumes', 'alpha-data (100 GiB)', '$5.00'),
      row('Droplets', 'beta-api (s-2vcpu-4gb)', '$20.50'),
      row('Droplets', 'orphan-1 (s-1vcpu-1gb)', '$7.25'),
      row('Droplets', 'ghost (s-1vcpu-1gb)', '$3.10'),
      row('Credits', 'Promo credit', '-$2.00'),
      row('Taxes', 'GST (10%)', '$4.33'),
    ]),
  });
  addInvoice(fake, { uuid: 'apr-2', invoiceId: '9002', period: '2026-04', amount: '9.99', csv: csvOf([row('Droplets', 'stray-db (s-1vcpu-1gb)', '$9.00')]) });
  addInvoice(fake, { uuid: 'mar-1', invoiceId: '8001', period: '2026-03', amount: '100.00', csv: csvOf([row('Droplets', 'alpha-web (s-1vcpu-1gb)', '$100.00')]) });
  const now = new Date('2026-05-02T00:00:00Z');
  await syncBillingHistory({ prisma, boss: null, provider: fake.client(), now });
  for (const uuid of ['apr-1', 'apr-2', 'mar-1']) await ingestInvoice({ prisma, boss: null, provider: fake.client(), now }, { invoiceUuid: uuid });
});
afterAll(async () => {
  await fake.close();
});

const call = async (method: 'GET' | 'POST', url: string, body?: unknown, roles: Parameters<ReturnType<typeof ctx>['auth']>[0] = 'finance') =>
  ctx().app.inject({ method, url, headers: await ctx().auth(roles), ...(body ? { payload: body as object } : {}) });

describe('FX rates', () => {
  it('a report that needs a missing rate is 422 naming every missing pair and the period', async () => {
    const res = await call('GET', '/api/v1/reports/margin?period=2026-04');
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'fx_rate_missing', field: 'fx_rate', details: { period: '2026-04', missing: [{ from: 'EUR', to: 'AUD' }, { from: 'USD', to: 'AUD' }] } });
    expect(res.json().message).toContain('EUR→AUD');
    expect(res.json().message).toContain('USD→AUD');
  });

  it('records a rate exactly; the same again is unchanged, another rate is a 409; bad input names the field', async () => {
    const first = await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'USD', to: 'AUD', rate: USD_AUD });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ status: 'created', fx_rate: { period: '2026-04', from: 'USD', to: 'AUD', rate: USD_AUD } });
    const again = await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'USD', to: 'AUD', rate: '1.5234560' });
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe('unchanged');
    const other = await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'USD', to: 'AUD', rate: '1.6' });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: 'fx_rate_conflict', field: 'rate', details: { recorded: { rate: USD_AUD } } });
    expect((await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'USD', to: 'AUD', rate: '0' })).json()).toMatchObject({ field: 'rate' });
    expect((await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'USD', to: 'AUD', rate: 1.5 })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/fx-rates', { period: '2026-13', from: 'USD', to: 'AUD', rate: '1' })).json()).toMatchObject({ field: 'period' });
    expect((await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'usd', to: 'AUD', rate: '1' })).json()).toMatchObject({ field: 'from' });
    expect((await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'AUD', to: 'AUD', rate: '1' })).json()).toMatchObject({ field: 'to' });
    expect((await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'EUR', to: 'AUD', rate: '1' }, 'tenant_admin')).statusCode).toBe(403);
    expect((await ctx().db.prisma.fxRate.count())).toBe(1);

    // Still one missing: EUR→AUD.
    const still = await call('GET', '/api/v1/reports/margin?period=2026-04');
    expect(still.json().details.missing).toEqual([{ period: '2026-04', from: 'EUR', to: 'AUD' }]);
    expect((await call('POST', '/api/v1/fx-rates', { period: '2026-04', from: 'EUR', to: 'AUD', rate: EUR_AUD }, 'platform_admin')).statusCode).toBe(201);
    const list = await call('GET', '/api/v1/fx-rates?period=2026-04');
    expect(list.json().data.map((x: { from: string; rate: string }) => [x.from, x.rate])).toEqual([['EUR', EUR_AUD], ['USD', USD_AUD]]);
  });
});

describe('margin per tenant', () => {
  // Independent expectations, exact at scale 12.
  const alphaA1Revenue = dec('56.72'); // 5000 + 672
  const alphaA2Revenue = dec('3.00'); // 750 + 125 + (300 − 125) + (0 − 750)
  const alphaA1Cost = mul(dec('10.123456'), r);
  const alphaA2Cost = mul(dec('5.00'), r);
  const betaRevenue = mul(dec('100.00'), dec(EUR_AUD));
  const betaCost = mul(dec('20.50'), r);
  const unowned = mul(dec('7.25'), r);
  const unmatched = mul(dec('3.10') - dec('2.00') + dec('9.00'), r);
  const overhead = unowned + unmatched;
  const alphaRevenue = alphaA1Revenue + alphaA2Revenue;
  const alphaCost = alphaA1Cost + alphaA2Cost;

  it('JSON: revenue by kind, cost by kind, margin and margin % per tenant and deployment, overhead and totals', async () => {
    const res = await call('GET', '/api/v1/reports/margin?period=2026-04');
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.currency).toBe('AUD');
    const [a, b] = report.tenants;
    expect(a.tenant_slug).toBe('alpha');
    expect(a.revenue.formatted).toBe(cents(alphaRevenue));
    expect(a.revenue_by_kind.llm_usage.formatted).toBe('3.00');
    expect(a.revenue_by_kind.addon.formatted).toBe('0.00');
    expect(a.cost.formatted).toBe(cents(alphaCost));
    expect(a.cost.exact).toBe(exact(alphaCost)); // the exact value before the one rounding
    expect(a.cost_by_kind.droplet.formatted).toBe(cents(alphaA1Cost));
    expect(a.cost_by_kind.volume.formatted).toBe(cents(alphaA2Cost));
    expect(a.margin.formatted).toBe(cents(alphaRevenue - alphaCost));
    expect(a.margin_pct).toBe(pct(alphaRevenue - alphaCost, alphaRevenue));
    expect(a.revenue_in_billing_currency).toEqual({ amount_minor: '5972', currency: 'AUD', formatted: '59.72' });
    const [prod, staging] = a.deployments;
    expect([prod.deployment_slug, prod.revenue.formatted, prod.cost.formatted, prod.margin.formatted]).toEqual(['prod', cents(alphaA1Revenue), cents(alphaA1Cost), cents(alphaA1Revenue - alphaA1Cost)]);
    expect([staging.deployment_slug, staging.revenue.formatted, staging.cost.formatted, staging.margin_pct]).toEqual(['staging', cents(alphaA2Revenue), cents(alphaA2Cost), pct(alphaA2Revenue - alphaA2Cost, alphaA2Revenue)]);

    expect(b.tenant_slug).toBe('beta');
    expect(b.revenue.formatted).toBe(cents(betaRevenue));
    expect(b.revenue.formatted).toBe('165.43');
    expect(b.revenue_in_billing_currency).toEqual({ amount_minor: '10000', currency: 'EUR', formatted: '100.00' });
    expect(b.cost.formatted).toBe(cents(betaCost));
    expect(b.margin.formatted).toBe(cents(betaRevenue - betaCost));

    expect(report.overhead.cost.formatted).toBe(cents(overhead));
    expect(report.overhead.unowned.formatted).toBe(cents(unowned));
    expect(report.overhead.unmatched.formatted).toBe(cents(unmatched));
    expect(report.overhead.margin.formatted).toBe(cents(-overhead));
    const totalRevenue = alphaRevenue + betaRevenue;
    const totalCost = alphaCost + betaCost + overhead;
    expect(report.totals.revenue.formatted).toBe(cents(totalRevenue));
    expect(report.totals.cost.formatted).toBe(cents(totalCost));
    expect(report.totals.margin.formatted).toBe(cents(totalRevenue - totalCost));
    expect(report.totals.margin_pct).toBe(pct(totalRevenue - totalCost, totalRevenue));
    expect(report.rates).toEqual([{ from: 'EUR', to: 'AUD', rate: EUR_AUD }, { from: 'USD', to: 'AUD', rate: USD_AUD }]);
  });

  it('CSV and HTML carry the same figures; the HTML chart is inline SVG with no external assets', async () => {
    const csv = await call('GET', '/api/v1/reports/margin?period=2026-04&format=csv');
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = parseCsv(csv.body, { columns: true }) as Record<string, string>[];
    const byKey = Object.fromEntries(rows.map((x) => [`${x.row}:${x.tenant}:${x.deployment}`, x]));
    expect(byKey['tenant:alpha:']!.margin).toBe(cents(alphaRevenue - alphaCost));
    expect(byKey['deployment:alpha:staging']!.revenue_llm_usage).toBe('3.00');
    expect(byKey['tenant:beta:']!.cost_droplet).toBe(cents(betaCost));
    expect(byKey['overhead:(platform overhead):']!.cost).toBe(cents(overhead));
    expect(byKey['total:(all):']!.revenue).toBe(cents(alphaRevenue + betaRevenue));

    const html = await call('GET', '/api/v1/reports/margin?period=2026-04&format=html');
    expect(html.headers['content-type']).toContain('text/html');
    const root = parseHtml(html.body);
    expect(root.querySelectorAll('svg rect')).toHaveLength(3); // alpha, beta, overhead
    expect(root.querySelector('svg')!.text).toContain(cents(alphaRevenue - alphaCost));
    expect(root.querySelectorAll('table tbody tr').length).toBe(rows.length);
    expect(html.body).not.toMatch(/<(script|link|img)\b|\bsrc=|url\(/i);
  });

  it('only finance and platform_admin', async () => {
    expect((await call('GET', '/api/v1/reports/margin?period=2026-04', undefined, 'tenant_admin')).statusCode).toBe(403);
    expect((await call('GET', '/api/v1/reports/margin?period=April', undefined)).json()).toMatchObject({ field: 'period' });
  });
});

describe('cost reconciliation', () => {
  it('each provider invoice split into matched, unowned, unmatched, tax and credits adding up to its total, or flagged', async () => {
    const res = await call('GET', '/api/v1/reports/cost-reconciliation?period=2026-04', undefined, 'platform_admin');
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.invoices.map((i: { invoice_uuid: string }) => i.invoice_uuid)).toEqual(['apr-1', 'apr-2']);
    const [one, two] = report.invoices;
    expect(one).toMatchObject({
      total: '48.303456',
      matched_to_tenants: '35.623456', // 10.123456 + 5.00 + 20.50
      unowned: '7.25',
      unmatched: '3.10',
      tax: '4.33',
      credits: '-2.00',
      lines_total: '48.303456',
      difference: '0.00',
      reconciles: true,
      by_kind: { droplet: '40.973456', volume: '5.00', other: '-2.00', tax: '4.33' },
    });
    expect(two).toMatchObject({ total: '9.99', unmatched: '9.00', lines_total: '9.00', difference: '0.99', reconciles: false });
    expect(report.totals).toMatchObject({ total: '58.293456', lines_total: '57.303456', difference: '0.99', reconciles: false });
    expect(report.leaks.map((l: { owner: string; name: string; amount: string }) => [l.owner, l.name, l.amount])).toEqual([
      ['unmatched', 'stray-db', '9.00'],
      ['unowned', 'orphan-1', '7.25'],
      ['unmatched', 'ghost', '3.10'],
    ]);
    const csv = await call('GET', '/api/v1/reports/cost-reconciliation?period=2026-04&format=csv');
    const [table] = csv.body.split('\n\n');
    const rows = parseCsv(table!, { columns: true }) as Record<string, string>[];
    expect(rows.map((x) => [x.invoice_id, x.total, x.reconciles])).toEqual([['9001', '48.303456', 'yes'], ['9002', '9.99', 'NO'], ['(all)', '58.293456', 'NO']]);
  });
});
