// invoice-issue (hourly): issues every period whose grace period has passed and that still has
// drafts (refreshing them first), and gives a job to any receivable left pending without one.
import { issueDuePeriods } from '../src/invoicing/issue-drafts.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
import type { JobDeps } from './worker.ts';

export async function handleInvoiceIssue(deps: JobDeps) {
  const summaries = await issueDuePeriods({ prisma: deps.prisma, now: deps.now(), receivables: receivablesSettings(deps.config, deps.boss), logger: deps.logger });
  for (const s of summaries) deps.logger.info({ period: s.period, issued: s.issued, pushed: s.pushed, push_failed: s.push_failed, push_skipped: s.push_skipped, failed: s.failed }, 'invoices issued');
  return summaries.map(({ invoices: _invoices, ...s }) => s);
}
