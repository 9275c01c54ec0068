// The reports as rows (for CSV and terminal tables) and as an HTML page. Layout only: every
// figure comes from the report as computed (and rounded once) by margin.ts / reconciliation.ts.
import { stringify } from 'csv-stringify/sync';
import { escapeHtml as e } from '../documents/html.ts';
import type { MarginFigures, MarginReport } from './margin.ts';
import type { ReconciliationReport } from './reconciliation.ts';

// ---------------------------------------------------------------------------------------------
// Margin

export const REVENUE_KINDS = ['plan_base', 'addon', 'overage', 'llm_usage'] as const;

function costKinds(report: MarginReport): string[] {
  const kinds = new Set<string>();
  for (const t of report.tenants) for (const k of Object.keys(t.cost_by_kind)) kinds.add(k);
  for (const k of Object.keys(report.overhead.cost_by_kind)) kinds.add(k);
  return [...kinds].sort();
}

/** Header plus one row per tenant, per deployment, the overhead and the total. */
export function marginRows(report: MarginReport): string[][] {
  const kinds = costKinds(report);
  const header = ['row', 'tenant', 'deployment', 'currency', ...REVENUE_KINDS.map((k) => `revenue_${k}`), 'revenue', ...kinds.map((k) => `cost_${k}`), 'cost', 'margin', 'margin_pct'];
  const row = (type: string, tenant: string, deployment: string, f: MarginFigures) => [
    type,
    tenant,
    deployment,
    report.currency,
    ...REVENUE_KINDS.map((k) => f.revenue_by_kind[k]?.formatted ?? ''),
    f.revenue.formatted,
    ...kinds.map((k) => f.cost_by_kind[k]?.formatted ?? ''),
    f.cost.formatted,
    f.margin.formatted,
    f.margin_pct ?? '',
  ];
  const rows = [header];
  for (const t of report.tenants) {
    rows.push(row('tenant', t.tenant_slug, '', t));
    for (const d of t.deployments) rows.push(row('deployment', t.tenant_slug, d.deployment_slug ?? '(account)', d));
  }
  rows.push(row('overhead', '(platform overhead)', '', report.overhead));
  rows.push(row('total', '(all)', '', report.totals));
  return rows;
}

export function marginCsv(report: MarginReport): string {
  return stringify(marginRows(report));
}

/** A page a person reads: the table and a bar chart of margin per tenant (inline SVG, no external assets). */
export function marginHtml(report: MarginReport): string {
  const rows = marginRows(report);
  const [header, ...body] = rows;
  const table = `<table><thead><tr>${header!.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((r) => `<tr class="${e(r[0]!)}">${r.map((cell, i) => `<td class="${i >= 3 ? 'num' : ''}">${e(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

  // Bars: margin per tenant (and the overhead), scaled to the largest magnitude; negative bars go left.
  const bars = [...report.tenants.map((t) => ({ label: t.tenant_slug, minor: BigInt(t.margin.amount_minor), text: t.margin.formatted })), { label: 'platform overhead', minor: BigInt(report.overhead.margin.amount_minor), text: report.overhead.margin.formatted }];
  const max = bars.reduce((m, b) => (b.minor < 0n ? (-b.minor > m ? -b.minor : m) : b.minor > m ? b.minor : m), 1n);
  const labelW = 170;
  const half = 260;
  const rowH = 26;
  const width = labelW + 2 * half + 120;
  const height = bars.length * rowH + 20;
  const zeroX = labelW + half;
  // Whole pixels, computed in integers: no money goes through a float.
  const px = (minor: bigint) => Number(((minor < 0n ? -minor : minor) * BigInt(half)) / max);
  const svgBars = bars
    .map((b, i) => {
      const y = 10 + i * rowH;
      const w = px(b.minor);
      const x = b.minor < 0n ? zeroX - w : zeroX;
      const textX = b.minor < 0n ? x - 4 : x + w + 4;
      return `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${e(b.label)}</text><rect x="${x}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="${b.minor < 0n ? '#c0392b' : '#27ae60'}"><title>${e(b.label)}: ${e(b.text)} ${e(report.currency)}</title></rect><text x="${textX}" y="${y + 16}" text-anchor="${b.minor < 0n ? 'end' : 'start'}">${e(b.text)}</text>`;
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Margin per tenant" width="${width}" height="${height}" font-family="sans-serif" font-size="12"><line x1="${zeroX}" y1="0" x2="${zeroX}" y2="${height}" stroke="#888"/>${svgBars}</svg>`;
  const rates = report.rates.length ? report.rates.map((r) => `1 ${e(r.from)} = ${e(r.rate)} ${e(r.to)}`).join('; ') : 'none needed';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Margin per tenant ${e(report.period)}</title>
<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:13px}th,td{padding:.25em .6em;border-bottom:1px solid #ddd}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}tr.tenant td,tr.total td{font-weight:bold}tr.overhead td{font-style:italic}</style>
</head><body>
<h1>Margin per tenant, ${e(report.period)}</h1>
<p>All figures in ${e(report.currency)}, net of GST; exchange rates: ${rates}. Revenue: invoice lines of non-void invoices plus adjustment notes; cost: the provider's lines matched to each tenant's deployments. Overhead: cost lines matched to no resource or to a resource with no deployment.</p>
<h2>Margin per tenant</h2>
${svg}
<h2>Detail</h2>
${table}
</body></html>
`;
}

// ---------------------------------------------------------------------------------------------
// Reconciliation

export function reconciliationRows(report: ReconciliationReport): string[][] {
  const kinds = new Set<string>();
  for (const i of report.invoices) for (const k of Object.keys(i.by_kind)) kinds.add(k);
  const sorted = [...kinds].sort();
  const header = ['invoice_id', 'invoice_uuid', 'date', 'total', ...sorted.map((k) => `kind_${k}`), 'matched_to_tenants', 'unowned', 'unmatched', 'tax', 'credits', 'lines_total', 'difference', 'reconciles'];
  const rows = [header];
  for (const i of report.invoices) {
    rows.push([i.invoice_id, i.invoice_uuid, i.date.slice(0, 10), i.total, ...sorted.map((k) => i.by_kind[k] ?? ''), i.matched_to_tenants, i.unowned, i.unmatched, i.tax, i.credits, i.lines_total, i.difference, i.reconciles ? 'yes' : 'NO']);
  }
  const t = report.totals;
  rows.push(['(all)', '', '', t.total, ...sorted.map((k) => t.by_kind[k] ?? ''), t.matched_to_tenants, t.unowned, t.unmatched, t.tax, t.credits, t.lines_total, t.difference, t.reconciles ? 'yes' : 'NO']);
  return rows;
}

export function leakRows(report: ReconciliationReport): string[][] {
  return [['owner', 'kind', 'name', 'resource_id', 'amount', 'lines'], ...report.leaks.map((l) => [l.owner, l.kind, l.name, l.resource_id ?? '', l.amount, String(l.lines)])];
}

export function reconciliationCsv(report: ReconciliationReport): string {
  return `${stringify(reconciliationRows(report))}\n${stringify(leakRows(report))}`;
}
