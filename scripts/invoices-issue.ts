// npm run invoices:issue -- --period 2026-04 [--tenant <id>] [--by you@example.com]
// Finance's early issue: refreshes the period's drafts, issues them (gap-free numbers, due dates)
// and delivers each to finance. Exits 1 if an invoice could not be issued.
import { userInfo } from 'node:os';
import Table from 'cli-table3';
import { issueDrafts } from '../src/invoicing/issue-drafts.ts';
import { DomainError } from '../src/platform/errors.ts';
import { cliArgs, idArg, periodArg } from './lib/cli-args.ts';
import { startCliRuntime } from './lib/cli-runtime.ts';
import { progressReporter, tableStyle } from './lib/report.ts';

const USAGE = 'usage: npm run invoices:issue -- --period YYYY-MM [--tenant <id>] [--by you@example.com]';
const values = cliArgs(USAGE, { period: { type: 'string' }, tenant: { type: 'string' }, by: { type: 'string' } });
const period = periodArg(values.period, USAGE);
idArg(values.tenant, 'tenant', USAGE);

const runtime = await startCliRuntime({ logFile: '.data/invoices-issue.log' }); // human output; logs to the file unless LOG_LEVEL is set
const progress = progressReporter(`issuing ${period.key}`, 'invoices');
try {
  const summary = await issueDrafts(
    { prisma: runtime.prisma, now: new Date(), receivables: runtime.receivables, logger: runtime.logger, onProgress: progress.onProgress },
    { period, tenantId: values.tenant ?? null, actor: values.by ?? `cli:${userInfo().username}` },
  );
  progress.stop();
  const table = new Table({ ...tableStyle, head: ['period', 'drafts', 'refreshed', 'issued', 'pushed', 'push failed', 'push retrying', 'push skipped', 'failed'] });
  table.push([summary.period, summary.drafts, summary.refreshed, summary.issued, summary.pushed, summary.push_failed, summary.push_retrying, summary.push_skipped, summary.failed]);
  console.log(table.toString());
  if (summary.invoices.length > 0) {
    const list = new Table({ ...tableStyle, head: ['number', 'tenant', 'total', 'push'] });
    for (const i of summary.invoices) list.push([i.number, i.tenant_slug, `${i.total.formatted} ${i.total.currency}`, i.push]);
    console.log(list.toString());
  }
  for (const f of summary.failures) console.log(`FAILED ${f.tenant_slug} (${f.invoice_id}): ${f.error}`);
  if (summary.drafts === 0) console.log(`no drafts to issue for ${summary.period}`);
  await runtime.shutdown(summary.failed > 0 ? 1 : 0);
} catch (error) {
  progress.stop();
  console.error(error instanceof DomainError ? `error: ${error.message}` : error);
  await runtime.shutdown(1);
}
