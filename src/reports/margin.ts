// Margin per tenant for one period: what each tenant earns the platform after the cloud bill.
//
// - Revenue: the tenant's invoice lines of the period net of GST (every kind but `tax`) on invoices
//   that are not void, plus the deltas of its adjustment notes for that period (non-tax lines).
// - Cost: the provider's cost lines of the provider invoices of the period (billing month) matched
//   to the tenant's deployments. Provider tax lines (GST the platform claims back) are not cost.
//   Lines matched to no resource, or to a resource that belongs to no deployment, are platform
//   overhead, on their own row: never spread over tenants.
// - One report currency (default AUD): revenue converted with the period's `tenant currency →
//   report currency` rate, cost with `USD → report currency`. A missing rate is a 422 naming
//   every missing pair; nothing is guessed.
// - Exact decimals throughout; each figure is rounded once, for display, half away from zero.
//
// Loading is three grouped SQL queries; the arithmetic (buildMarginReport) is pure.
import type { Db } from '../platform/database.ts';
import { ValidationError } from '../platform/errors.ts';
import type { Period } from '../invoicing/period.ts';
import { isTaxLine } from '../costs/invoice-csv.ts';
import { exponentOf, formatMinor } from '../money/money.ts';
import { addDecimal, formatDecimal, multiplyDecimal, parseDecimalOrScientific, percentOf, roundDecimal, trimDecimal, type ScaledDecimal } from '../money/decimal.ts';
import { ratesOf } from './fx-rates.ts';

export const PROVIDER_CURRENCY = 'USD';
const MICROS_SCALE = 6;

// ---------------------------------------------------------------------------------------------
// Inputs (plain data)

export interface RevenueRow {
  tenantId: string;
  deploymentId: string | null;
  kind: string;
  currency: string;
  /** Minor units of `currency`. */
  amountMinor: bigint;
}

export interface CostRow {
  tenantId: string | null;
  deploymentId: string | null;
  /** The line matched a cloud resource (with or without a deployment). */
  matched: boolean;
  kind: string;
  product: string;
  description: string;
  amountMicros: bigint;
}

export interface MarginInputs {
  period: Period;
  currency: string;
  revenue: RevenueRow[];
  costs: CostRow[];
  tenants: { id: string; slug: string; name: string; billingCurrency: string }[];
  deployments: { id: string; slug: string; tenantId: string }[];
  /** `FROM>TO` → exact rate. */
  rates: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Output

export interface ReportMoney {
  /** Rounded once to the currency's minor unit. */
  amount_minor: string;
  formatted: string;
  /** The exact value before rounding. */
  exact: string;
}

export interface MarginFigures {
  revenue_by_kind: Record<string, ReportMoney>;
  revenue: ReportMoney;
  cost_by_kind: Record<string, ReportMoney>;
  cost: ReportMoney;
  margin: ReportMoney;
  /** Margin over revenue, in percent, one decimal; null without revenue. */
  margin_pct: string | null;
}

export interface DeploymentMargin extends MarginFigures {
  deployment_id: string | null;
  deployment_slug: string | null;
}

export interface TenantMargin extends MarginFigures {
  tenant_id: string;
  tenant_slug: string;
  tenant_name: string;
  billing_currency: string;
  /** The revenue in the tenant's own currency, minor units, as invoiced. */
  revenue_in_billing_currency: { amount_minor: string; currency: string; formatted: string };
  deployments: DeploymentMargin[];
}

export interface MarginReport {
  period: string;
  currency: string;
  rates: { from: string; to: string; rate: string }[];
  tenants: TenantMargin[];
  /** Platform overhead: cost with no tenant (revenue 0, margin = −cost). */
  overhead: MarginFigures & {
    /** Lines matched to no resource. */
    unmatched: ReportMoney;
    /** Lines matched to a resource that belongs to no deployment. */
    unowned: ReportMoney;
  };
  totals: MarginFigures;
}

// ---------------------------------------------------------------------------------------------
// Pure arithmetic

const ZERO: ScaledDecimal = { amount: 0n, scale: 0 };

class Bucket {
  revenue = new Map<string, ScaledDecimal>();
  cost = new Map<string, ScaledDecimal>();
  addRevenue(kind: string, v: ScaledDecimal) {
    this.revenue.set(kind, addDecimal(this.revenue.get(kind) ?? ZERO, v));
  }
  addCost(kind: string, v: ScaledDecimal) {
    this.cost.set(kind, addDecimal(this.cost.get(kind) ?? ZERO, v));
  }
  merge(other: Bucket) {
    for (const [k, v] of other.revenue) this.addRevenue(k, v);
    for (const [k, v] of other.cost) this.addCost(k, v);
  }
}

const sum = (values: Iterable<ScaledDecimal>) => [...values].reduce(addDecimal, ZERO);

export class MissingFxRateError extends ValidationError {
  constructor(period: string, missing: { from: string; to: string }[]) {
    const pairs = missing.map((m) => `${m.from}→${m.to}`).join(', ');
    super({ field: 'fx_rate', message: `no exchange rate ${pairs} for ${period}; record it with POST /api/v1/fx-rates` }, 'fx_rate_missing');
    (this as { details: Record<string, unknown> | undefined }).details = { period, missing: missing.map((m) => ({ period, ...m })) };
  }
}

export function buildMarginReport(inputs: MarginInputs): MarginReport {
  const c = inputs.currency;
  const exp = exponentOf(c);
  const needed = new Set<string>();
  for (const r of inputs.revenue) if (r.currency !== c && r.amountMinor !== 0n) needed.add(`${r.currency}>${c}`);
  if (c !== PROVIDER_CURRENCY && inputs.costs.some((x) => x.amountMicros !== 0n)) needed.add(`${PROVIDER_CURRENCY}>${c}`);
  const missing = [...needed].filter((k) => !inputs.rates.has(k)).sort();
  if (missing.length > 0) {
    throw new MissingFxRateError(
      inputs.period.key,
      missing.map((k) => {
        const [from, to] = k.split('>') as [string, string];
        return { from, to };
      }),
    );
  }
  // Every rate an amount needs was checked above; a pair left unchecked only ever multiplies zeros.
  const rate = (from: string): ScaledDecimal => (from === c ? { amount: 1n, scale: 0 } : parseDecimalOrScientific(inputs.rates.get(`${from}>${c}`) ?? '0'));

  const money = (d: ScaledDecimal): ReportMoney => {
    const minor = roundDecimal(d, exp);
    return { amount_minor: minor.toString(), formatted: formatMinor(minor, c), exact: formatDecimal(trimDecimal(d)) };
  };
  const figures = (b: Bucket): MarginFigures => {
    const revenue = sum(b.revenue.values());
    const cost = sum(b.cost.values());
    const margin = addDecimal(revenue, { amount: -cost.amount, scale: cost.scale });
    const pct = percentOf(margin, revenue, 1);
    return {
      revenue_by_kind: Object.fromEntries([...b.revenue].sort(([a], [z]) => a.localeCompare(z)).map(([k, v]) => [k, money(v)])),
      revenue: money(revenue),
      cost_by_kind: Object.fromEntries([...b.cost].sort(([a], [z]) => a.localeCompare(z)).map(([k, v]) => [k, money(v)])),
      cost: money(cost),
      margin: money(margin),
      margin_pct: pct ? formatDecimal(pct) : null,
    };
  };

  const tenantsById = new Map(inputs.tenants.map((t) => [t.id, t]));
  const deploymentsById = new Map(inputs.deployments.map((d) => [d.id, d]));
  // tenant → deployment (or null) → bucket
  const perTenant = new Map<string, Map<string | null, Bucket>>();
  const billingMinor = new Map<string, bigint>();
  const bucketOf = (tenantId: string, deploymentId: string | null) => {
    let ds = perTenant.get(tenantId);
    if (!ds) perTenant.set(tenantId, (ds = new Map()));
    let b = ds.get(deploymentId);
    if (!b) ds.set(deploymentId, (b = new Bucket()));
    return b;
  };

  for (const r of inputs.revenue) {
    const converted = multiplyDecimal({ amount: r.amountMinor, scale: exponentOf(r.currency) }, rate(r.currency));
    bucketOf(r.tenantId, r.deploymentId).addRevenue(r.kind, converted);
    billingMinor.set(r.tenantId, (billingMinor.get(r.tenantId) ?? 0n) + r.amountMinor);
  }
  const overhead = new Bucket();
  let unmatched = ZERO;
  let unowned = ZERO;
  const usd = rate(PROVIDER_CURRENCY);
  for (const x of inputs.costs) {
    if (isTaxLine({ product: x.product, description: x.description })) continue;
    const converted = multiplyDecimal({ amount: x.amountMicros, scale: MICROS_SCALE }, usd);
    if (x.tenantId && x.deploymentId) bucketOf(x.tenantId, x.deploymentId).addCost(x.kind, converted);
    else {
      overhead.addCost(x.kind, converted);
      if (x.matched) unowned = addDecimal(unowned, converted);
      else unmatched = addDecimal(unmatched, converted);
    }
  }

  const total = new Bucket();
  const tenants: TenantMargin[] = [];
  for (const [tenantId, ds] of perTenant) {
    const t = tenantsById.get(tenantId);
    const tenantBucket = new Bucket();
    const deployments: DeploymentMargin[] = [];
    for (const [deploymentId, b] of ds) {
      tenantBucket.merge(b);
      deployments.push({ deployment_id: deploymentId, deployment_slug: deploymentId ? (deploymentsById.get(deploymentId)?.slug ?? deploymentId) : null, ...figures(b) });
    }
    deployments.sort((a, b) => (a.deployment_slug === null ? 1 : b.deployment_slug === null ? -1 : a.deployment_slug.localeCompare(b.deployment_slug)));
    total.merge(tenantBucket);
    const billingCurrency = t?.billingCurrency ?? c;
    const inBilling = billingMinor.get(tenantId) ?? 0n;
    tenants.push({
      tenant_id: tenantId,
      tenant_slug: t?.slug ?? tenantId,
      tenant_name: t?.name ?? tenantId,
      billing_currency: billingCurrency,
      revenue_in_billing_currency: { amount_minor: inBilling.toString(), currency: billingCurrency, formatted: formatMinor(inBilling, billingCurrency) },
      ...figures(tenantBucket),
      deployments,
    });
  }
  tenants.sort((a, b) => a.tenant_slug.localeCompare(b.tenant_slug));
  total.merge(overhead);
  const overheadFigures = figures(overhead);

  return {
    period: inputs.period.key,
    currency: c,
    rates: [...needed].sort().map((k) => {
      const [from, to] = k.split('>') as [string, string];
      return { from, to, rate: formatDecimal(trimDecimal(parseDecimalOrScientific(inputs.rates.get(k)!))) };
    }),
    tenants,
    overhead: { ...overheadFigures, unmatched: money(unmatched), unowned: money(unowned) },
    totals: figures(total),
  };
}

// ---------------------------------------------------------------------------------------------
// Loading

export async function loadMarginInputs(db: Db, period: Period, currency: string): Promise<MarginInputs> {
  const revenue = await db.$queryRaw<{ tenant_id: string; deployment_id: string | null; kind: string; currency: string; amount_minor: string }[]>`
    SELECT i.tenant_id::text, l.deployment_id::text, l.kind::text, i.currency::text, SUM(l.amount_minor)::text AS amount_minor
      FROM tenant_invoice_lines l JOIN tenant_invoices i ON i.id = l.invoice_id
     WHERE i.period_start = ${period.start}::timestamptz AND i.status <> 'void' AND l.kind <> 'tax'
     GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT n.tenant_id::text, nl.deployment_id::text, nl.kind::text, n.currency::text, SUM(nl.delta_minor)::text
      FROM adjustment_note_lines nl JOIN adjustment_notes n ON n.id = nl.note_id JOIN tenant_invoices i ON i.id = n.invoice_id
     WHERE n.period_start = ${period.start}::timestamptz AND i.status <> 'void' AND nl.kind <> 'tax'
     GROUP BY 1, 2, 3, 4`;
  // Grouped so only `other` lines keep their description (what tells a credit or a tax apart).
  const costs = await db.$queryRaw<{ tenant_id: string | null; deployment_id: string | null; matched: boolean; kind: string; product: string; description: string; amount_micros: string }[]>`
    SELECT d.tenant_id::text, c.deployment_id::text, (c.cloud_resource_id IS NOT NULL) AS matched, c.kind, c.product,
           CASE WHEN c.kind = 'other' THEN c.description ELSE '' END AS description, SUM(c.amount_micros)::text AS amount_micros
      FROM cost_lines c
      JOIN provider_invoices p ON p.id = c.provider_invoice_id
      LEFT JOIN deployments d ON d.id = c.deployment_id
     WHERE p.period = ${period.start}::timestamptz
     GROUP BY 1, 2, 3, 4, 5, 6`;
  const tenantIds = [...new Set([...revenue.map((r) => r.tenant_id), ...costs.flatMap((x) => (x.tenant_id ? [x.tenant_id] : []))])];
  const deploymentIds = [...new Set([...revenue, ...costs].flatMap((r) => (r.deployment_id ? [r.deployment_id] : [])))];
  const [tenants, deployments, rates] = await Promise.all([
    db.tenant.findMany({ where: { id: { in: tenantIds } }, select: { id: true, slug: true, name: true, billingCurrency: true } }),
    db.deployment.findMany({ where: { id: { in: deploymentIds } }, select: { id: true, slug: true, tenantId: true } }),
    ratesOf(db, period),
  ]);
  return {
    period,
    currency,
    revenue: revenue.map((r) => ({ tenantId: r.tenant_id, deploymentId: r.deployment_id, kind: r.kind, currency: r.currency, amountMinor: BigInt(r.amount_minor) })),
    costs: costs.map((x) => ({
      tenantId: x.tenant_id,
      deploymentId: x.deployment_id,
      matched: x.matched,
      kind: x.kind,
      product: x.product,
      description: x.description,
      amountMicros: BigInt(x.amount_micros),
    })),
    tenants,
    deployments,
    rates,
  };
}

export async function marginReport(db: Db, period: Period, currency: string): Promise<MarginReport> {
  return buildMarginReport(await loadMarginInputs(db, period, currency));
}
