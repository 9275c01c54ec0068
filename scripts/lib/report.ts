// Terminal rendering shared by the month-close CLI and the demo.
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import type { PrismaClient } from '../../src/platform/database.ts';
import type { MonthCloseSummary } from '../../src/invoicing/month-close.ts';
import { formatMinor } from '../../src/money/money.ts';

/** Colour only on a terminal: piped output (logs, CI) stays plain text. */
export const tableStyle = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
const style = tableStyle;

export function summaryTable(summary: MonthCloseSummary): string {
  const table = new Table({
    ...style,
    head: ['period', 'tenants', 'created', 'skipped', 'regenerated', 'unchanged', 'adjusted', 'reissued', 'void', 'failed', 'late usage events'],
  });
  table.push([
    summary.period + (summary.dry_run ? ' (dry run)' : ''),
    summary.tenants,
    summary.created,
    summary.skipped,
    summary.regenerated,
    summary.unchanged,
    summary.adjusted,
    summary.reissued,
    summary.void_left_alone,
    summary.failed,
    summary.late_usage_events,
  ]);
  let out = table.toString();
  for (const f of summary.failures) out += `\nFAILED ${f.tenant_slug ?? f.tenant_id}: ${f.error}`;
  for (const n of summary.adjustment_notes) {
    out += `\nADJUSTMENT NOTE ${n.number} for ${n.tenant_slug}: ${n.total_delta.formatted} ${n.total_delta.currency} (${n.total_delta.formatted.startsWith('-') ? 'credit' : 'debit'})`;
  }
  for (const l of summary.late_usage) out += `\nLATE USAGE ${l.tenant_slug}: ${l.events} event(s) arrived after the invoice was computed (a forced re-run bills them)`;
  const money = (m: { formatted: string } | null) => (m === null ? '—' : m.formatted);
  for (const change of summary.changes ?? []) {
    const status = change.invoice_status ? ` (invoice ${change.invoice_status})` : '';
    const t = new Table({ ...style, head: [`${change.tenant_slug}: ${change.action.replace('_', ' ')}${status}`, 'old', 'new', 'delta'] });
    const lines = change.adjustment ? change.adjustment.lines : change.lines.map((l) => ({ ...l, delta: null }));
    for (const l of lines) t.push([l.description, money(l.old_amount), money(l.new_amount), money(l.delta)]);
    if (change.adjustment) {
      t.push(['GST adjustment', '', '', change.adjustment.tax_delta.formatted]);
      t.push([`adjustment note total (${change.currency})`, '', '', change.adjustment.total_delta.formatted]);
    } else {
      t.push(['total', money(change.old_totals?.total ?? null), change.new_totals.total.formatted, '']);
    }
    out += `\n${t.toString()}`;
  }
  return out;
}

export async function invoiceReport(prisma: PrismaClient, tenantSlug: string, periodStart: Date): Promise<string> {
  const invoice = await prisma.tenantInvoice.findFirst({
    where: { tenant: { slug: tenantSlug }, periodStart, status: { not: 'void' } },
    include: { lines: { orderBy: { lineNo: 'asc' } }, tenant: true },
  });
  if (!invoice) return `no invoice for ${tenantSlug}`;
  const c = invoice.currency;
  const table = new Table({ ...style, head: ['#', 'kind', 'description', 'quantity', 'unit price', `amount (${c})`], colAligns: ['right', 'left', 'left', 'right', 'right', 'right'] });
  for (const l of invoice.lines) {
    table.push([l.lineNo, l.kind, l.description, l.quantity.toString(), l.unitPrice.toString(), formatMinor(l.amountMinor, c)]);
  }
  table.push(['', '', 'subtotal', '', '', formatMinor(invoice.subtotalMinor, c)]);
  table.push(['', '', 'tax', '', '', formatMinor(invoice.taxMinor, c)]);
  table.push(['', '', 'total', '', '', formatMinor(invoice.totalMinor, c)]);
  const title = invoice.number ? `Tax invoice ${invoice.number}` : `Draft invoice ${invoice.id}`;
  const dates = invoice.issuedAt && invoice.dueAt ? `, issued ${invoice.issuedAt.toISOString().slice(0, 10)}, due ${invoice.dueAt.toISOString().slice(0, 10)}` : '';
  const deliveries = await prisma.receivableDelivery.findMany({ where: { invoiceId: invoice.id }, orderBy: [{ createdAt: 'asc' }, { version: 'asc' }] });
  const push = deliveries.map((d) => `\nfinance: ${d.documentType} v${d.version} ${d.state}${d.state === 'skipped' ? ' (FINANCE_URL is not set)' : ''}`).join('');
  return `${title} for ${invoice.tenant.legalName ?? invoice.tenant.name} (${tenantSlug}), ${invoice.periodStart.toISOString().slice(0, 7)}, ${invoice.status}${dates}, revision ${invoice.revision}\n${table.toString()}${push}`;
}

/** A progress bar on a terminal; silent when output is piped. */
export function progressReporter(label: string, unit = 'tenants'): { onProgress: (p: { done: number; total: number }) => void; stop: () => void } {
  if (!process.stdout.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} ${unit}`, hideCursor: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onProgress: ({ done, total }) => {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}
