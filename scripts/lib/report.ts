// Terminal rendering shared by the month-close CLI and the demo.
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import type { PrismaClient } from '../../src/platform/database.ts';
import type { MonthCloseSummary } from '../../src/invoicing/month-close.ts';
import { formatMinor } from '../../src/money/money.ts';

/** Colour only on a terminal: piped output (logs, CI) stays plain text. */
const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

export function summaryTable(summary: MonthCloseSummary): string {
  const table = new Table({ ...style, head: ['period', 'tenants', 'created', 'skipped', 'regenerated', 'refused', 'void', 'failed', 'late usage events'] });
  table.push([
    summary.period + (summary.dry_run ? ' (dry run)' : ''),
    summary.tenants,
    summary.created,
    summary.skipped,
    summary.regenerated,
    summary.refused,
    summary.void_left_alone,
    summary.failed,
    summary.late_usage_events,
  ]);
  let out = table.toString();
  for (const f of summary.failures) out += `\nFAILED ${f.tenant_slug ?? f.tenant_id}: ${f.error}`;
  for (const r of summary.refusals) out += `\nREFUSED ${r.tenant_slug}: ${r.reason}`;
  for (const l of summary.late_usage) out += `\nLATE USAGE ${l.tenant_slug}: ${l.events} event(s) arrived after the invoice was computed (a forced re-run bills them)`;
  for (const change of summary.changes ?? []) {
    const t = new Table({ ...style, head: [`${change.tenant_slug}: ${change.action}`, 'old', 'new'] });
    for (const l of change.lines) {
      t.push([l.description, l.old_amount?.formatted ?? '—', l.new_amount?.formatted ?? '—']);
    }
    t.push(['total', change.old_totals?.total.formatted ?? '—', change.new_totals.total.formatted]);
    out += `\n${t.toString()}`;
  }
  return out;
}

export async function invoiceReport(prisma: PrismaClient, tenantSlug: string, periodStart: Date): Promise<string> {
  const invoice = await prisma.tenantInvoice.findFirst({
    where: { tenant: { slug: tenantSlug }, periodStart },
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
  return `Invoice ${invoice.id} for ${invoice.tenant.name} (${tenantSlug}), ${invoice.periodStart.toISOString().slice(0, 7)}, ${invoice.status}, revision ${invoice.revision}\n${table.toString()}`;
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
