// Cost reconciliation: where the cloud bill leaks. For each provider invoice of a period (billing
// month), its total split into disjoint parts that must add up to it exactly:
//   tax (isTaxLine, as the vendor bill splits it) + credits (other negative lines)
//   + matched to tenant deployments + matched to resources with no deployment (unowned)
//   + matched to nothing (unmatched)
// = the sum of the stored lines, compared with the invoice total (flagged when different); plus
// the lines' sum by kind, and the costly unmatched or unowned resources, largest first.
// All USD, exact micro-dollars; shown as exact decimal strings (no rounding).
import type { Db } from '../platform/database.ts';
import type { Period } from '../invoicing/period.ts';
import { isTaxLine } from '../costs/invoice-csv.ts';
import { microsToUsd, requireUsdMicros } from '../costs/usd.ts';

export type Owner = 'tenant' | 'unowned' | 'unmatched';

export interface ReconciliationGroup {
  invoiceUuid: string;
  kind: string;
  product: string;
  description: string;
  owner: Owner;
  negative: boolean;
  amountMicros: bigint;
  lines: number;
}

export interface ProviderInvoiceHead {
  invoiceUuid: string;
  invoiceId: string;
  date: Date;
  amount: string;
  ingestStatus: string;
  lineCount: number | null;
}

export interface LeakRow {
  owner: 'unowned' | 'unmatched';
  kind: string;
  product: string;
  name: string;
  description: string;
  resourceId: string | null;
  amountMicros: bigint;
  lines: number;
}

export interface InvoiceReconciliation {
  invoice_uuid: string;
  invoice_id: string;
  date: string;
  ingest_status: string;
  lines: number;
  total: string;
  by_kind: Record<string, string>;
  matched_to_tenants: string;
  unowned: string;
  unmatched: string;
  tax: string;
  credits: string;
  lines_total: string;
  /** total − (sum of the parts); "0.00" when it reconciles. */
  difference: string;
  reconciles: boolean;
}

export interface ReconciliationReport {
  period: string;
  currency: 'USD';
  invoices: InvoiceReconciliation[];
  totals: Omit<InvoiceReconciliation, 'invoice_uuid' | 'invoice_id' | 'date' | 'ingest_status'>;
  leaks: { owner: 'unowned' | 'unmatched'; kind: string; name: string; resource_id: string | null; amount: string; lines: number }[];
}

interface Parts {
  total: bigint;
  byKind: Map<string, bigint>;
  tenants: bigint;
  unowned: bigint;
  unmatched: bigint;
  tax: bigint;
  credits: bigint;
  lines: number;
}

const emptyParts = (): Parts => ({ total: 0n, byKind: new Map(), tenants: 0n, unowned: 0n, unmatched: 0n, tax: 0n, credits: 0n, lines: 0 });

function addGroup(p: Parts, g: ReconciliationGroup): void {
  p.lines += g.lines;
  p.byKind.set(g.kind, (p.byKind.get(g.kind) ?? 0n) + g.amountMicros);
  if (isTaxLine({ product: g.product, description: g.description })) p.tax += g.amountMicros;
  else if (g.negative) p.credits += g.amountMicros;
  else if (g.owner === 'tenant') p.tenants += g.amountMicros;
  else if (g.owner === 'unowned') p.unowned += g.amountMicros;
  else p.unmatched += g.amountMicros;
}

function partsJson(p: Parts) {
  const linesTotal = p.tenants + p.unowned + p.unmatched + p.tax + p.credits;
  return {
    lines: p.lines,
    total: microsToUsd(p.total),
    by_kind: Object.fromEntries([...p.byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, microsToUsd(v)])),
    matched_to_tenants: microsToUsd(p.tenants),
    unowned: microsToUsd(p.unowned),
    unmatched: microsToUsd(p.unmatched),
    tax: microsToUsd(p.tax),
    credits: microsToUsd(p.credits),
    lines_total: microsToUsd(linesTotal),
    difference: microsToUsd(p.total - linesTotal),
    reconciles: p.total === linesTotal,
  };
}

/** PURE: the report from the invoice heads, the grouped lines and the leak rows. */
export function buildReconciliation(period: Period, heads: ProviderInvoiceHead[], groups: ReconciliationGroup[], leaks: LeakRow[], leakLimit = 50): ReconciliationReport {
  const total = emptyParts();
  const invoices = heads.map((h) => {
    const p = emptyParts();
    p.total = requireUsdMicros(h.amount, 'amount');
    for (const g of groups) if (g.invoiceUuid === h.invoiceUuid) addGroup(p, g);
    total.total += p.total;
    for (const g of groups) if (g.invoiceUuid === h.invoiceUuid) addGroup(total, g);
    return { invoice_uuid: h.invoiceUuid, invoice_id: h.invoiceId, date: h.date.toISOString(), ingest_status: h.ingestStatus, ...partsJson(p) };
  });
  // Leaks: the same rows regrouped by resource, tax and credits left out, largest first.
  const merged = new Map<string, { owner: 'unowned' | 'unmatched'; kind: string; name: string; resource_id: string | null; micros: bigint; lines: number }>();
  for (const l of leaks) {
    if (isTaxLine({ product: l.product, description: l.description }) || l.amountMicros <= 0n) continue;
    const key = `${l.owner}|${l.resourceId ?? ''}|${l.kind}|${l.name}`;
    const m = merged.get(key) ?? { owner: l.owner, kind: l.kind, name: l.name, resource_id: l.resourceId, micros: 0n, lines: 0 };
    m.micros += l.amountMicros;
    m.lines += l.lines;
    merged.set(key, m);
  }
  const leakRows = [...merged.values()]
    .sort((a, b) => (b.micros > a.micros ? 1 : b.micros < a.micros ? -1 : a.name.localeCompare(b.name)))
    .slice(0, leakLimit)
    .map((m) => ({ owner: m.owner, kind: m.kind, name: m.name, resource_id: m.resource_id, amount: microsToUsd(m.micros), lines: m.lines }));
  return { period: period.key, currency: 'USD', invoices, totals: partsJson(total), leaks: leakRows };
}

export async function reconciliationReport(db: Db, period: Period): Promise<ReconciliationReport> {
  const heads = await db.$queryRaw<{ invoice_uuid: string; invoice_id: string; date: Date; amount: string; ingest_status: string; line_count: number | null }[]>`
    SELECT invoice_uuid, invoice_id, "date", amount::text, ingest_status::text, line_count
      FROM provider_invoices WHERE period = ${period.start}::timestamptz ORDER BY "date", invoice_uuid`;
  const groups = await db.$queryRaw<{ invoice_uuid: string; kind: string; product: string; description: string; owner: Owner; negative: boolean; amount_micros: string; lines: number }[]>`
    SELECT p.invoice_uuid, c.kind, c.product, CASE WHEN c.kind = 'other' THEN c.description ELSE '' END AS description,
           CASE WHEN c.deployment_id IS NOT NULL THEN 'tenant' WHEN c.cloud_resource_id IS NOT NULL THEN 'unowned' ELSE 'unmatched' END AS owner,
           (c.amount_micros < 0) AS negative, SUM(c.amount_micros)::text AS amount_micros, COUNT(*)::int AS lines
      FROM cost_lines c JOIN provider_invoices p ON p.id = c.provider_invoice_id
     WHERE p.period = ${period.start}::timestamptz
     GROUP BY 1, 2, 3, 4, 5, 6`;
  const leaks = await db.$queryRaw<{ owner: 'unowned' | 'unmatched'; kind: string; product: string; name: string; description: string; resource_id: string | null; amount_micros: string; lines: number }[]>`
    SELECT CASE WHEN c.cloud_resource_id IS NULL THEN 'unmatched' ELSE 'unowned' END AS owner, c.kind, c.product,
           COALESCE(r.name, c.resource_name, c.description) AS name, CASE WHEN c.kind = 'other' THEN c.description ELSE '' END AS description,
           r.id::text AS resource_id, SUM(c.amount_micros)::text AS amount_micros, COUNT(*)::int AS lines
      FROM cost_lines c JOIN provider_invoices p ON p.id = c.provider_invoice_id
      LEFT JOIN cloud_resources r ON r.id = c.cloud_resource_id
     WHERE p.period = ${period.start}::timestamptz AND c.deployment_id IS NULL AND c.amount_micros > 0 AND c.kind <> 'tax'
     GROUP BY 1, 2, 3, 4, 5, 6
     ORDER BY SUM(c.amount_micros) DESC
     LIMIT 500`;
  return buildReconciliation(
    period,
    heads.map((h) => ({ invoiceUuid: h.invoice_uuid, invoiceId: h.invoice_id, date: h.date, amount: h.amount, ingestStatus: h.ingest_status, lineCount: h.line_count })),
    groups.map((g) => ({ invoiceUuid: g.invoice_uuid, kind: g.kind, product: g.product, description: g.description, owner: g.owner, negative: g.negative, amountMicros: BigInt(g.amount_micros), lines: g.lines })),
    leaks.map((l) => ({ owner: l.owner, kind: l.kind, product: l.product, name: l.name, description: l.description, resourceId: l.resource_id, amountMicros: BigInt(l.amount_micros), lines: l.lines })),
  );
}
