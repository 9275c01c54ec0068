// Terminal tables of the margin and reconciliation reports (the same rows as their CSV).
import Table from 'cli-table3';
import type { MarginReport } from '../../src/reports/margin.ts';
import type { ReconciliationReport } from '../../src/reports/reconciliation.ts';
import { leakRows, marginRows, reconciliationRows } from '../../src/reports/render.ts';

const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

function table(rows: string[][], rightFrom: number): string {
  const [head, ...body] = rows;
  const t = new Table({ ...style, head: head!, colAligns: head!.map((_, i) => (i >= rightFrom ? 'right' : 'left')) });
  for (const r of body) t.push(r);
  return t.toString();
}

/** Drops the columns that are empty on every row (a cost kind no tenant had, say). */
function compact(rows: string[][], keepFrom: number): string[][] {
  const keep = rows[0]!.map((_, i) => i < keepFrom || rows.slice(1).some((r) => r[i] !== ''));
  return rows.map((r) => r.filter((_, i) => keep[i]));
}

export function marginTable(report: MarginReport, options: { tenantSlug?: string } = {}): string {
  let rows = marginRows(report);
  if (options.tenantSlug) rows = [rows[0]!, ...rows.slice(1).filter((r) => r[1] === options.tenantSlug)];
  const rates = report.rates.map((r) => `1 ${r.from} = ${r.rate} ${r.to}`).join(', ') || 'none needed';
  // Columns: row, tenant, deployment, currency, then figures.
  return `Margin per tenant, ${report.period}, in ${report.currency} net of GST (rates: ${rates})\n${table(compact(rows, 4).map((r) => r.filter((_, i) => i !== 3)), 3)}`;
}

export function reconciliationTable(report: ReconciliationReport): string {
  const invoices = table(compact(reconciliationRows(report), 4), 3);
  const leaks = report.leaks.length ? table(leakRows(report), 4) : '(none)';
  return `Cost reconciliation, ${report.period}, USD exact\n${invoices}\n\nCostly unmatched or unowned resources, largest first\n${leaks}`;
}
