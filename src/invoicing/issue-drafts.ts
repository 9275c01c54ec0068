// Issuing a period's drafts: first the draft refresh (late usage that arrived during the grace
// period is billed on the draft, not on an adjustment note later), then each draft in its own
// transaction, then an immediate delivery attempt of each receivable (the queued push job is the
// retry path). Used by the hourly invoice-issue job once the grace period has passed, and by
// `npm run invoices:issue` for finance's early issue.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PrismaClient } from '../platform/database.ts';
import { moneyJson, type MoneyJson } from '../money/money.ts';
import { FinanceUnavailableError } from '../costs/finance-client.ts';
import { deliverReceivable } from '../receivables/deliver.ts';
import { queueDelivery } from '../receivables/outbox.ts';
import type { ReceivablesSettings } from '../receivables/settings.ts';
import { issueInvoice } from './issue-invoice.ts';
import { invoiceIssues } from '../platform/metrics.ts';
import { closeMonth, type MonthCloseSummary } from './month-close.ts';
import { periodOf, type Period } from './period.ts';

export interface IssueDraftsDeps {
  prisma: PrismaClient;
  now: Date;
  receivables: ReceivablesSettings;
  logger?: Logger | undefined;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface IssueSummary {
  period: string;
  tenant_id: string | null;
  drafts: number;
  refreshed: number;
  issued: number;
  failed: number;
  pushed: number;
  push_failed: number;
  /** Finance unreachable: the push job retries with backoff. */
  push_retrying: number;
  /** No FINANCE_URL: recorded as skipped. */
  push_skipped: number;
  invoices: { invoice_id: string; tenant_slug: string; number: string; total: MoneyJson; push: string }[];
  failures: { invoice_id: string; tenant_slug: string; error: string }[];
}

/** Recomputes the drafts whose inputs changed (late usage); unchanged drafts are left alone. */
export async function refreshDrafts(deps: { prisma: PrismaClient; now: Date; receivables: ReceivablesSettings; logger?: Logger | undefined }, filter: { period?: Period; tenantId?: string | null } = {}): Promise<MonthCloseSummary[]> {
  const periods = filter.period ? [filter.period] : await periodsWithDrafts(deps.prisma);
  const summaries: MonthCloseSummary[] = [];
  for (const period of periods) {
    summaries.push(
      await closeMonth(
        { prisma: deps.prisma, now: deps.now, receivables: deps.receivables, ...(deps.logger ? { logger: deps.logger } : {}) },
        { runId: randomUUID(), period, force: true, dryRun: false, tenantId: filter.tenantId ?? null, reason: 'late usage refresh', requestedBy: 'system:draft-refresh', scope: 'drafts' },
      ),
    );
  }
  return summaries;
}

async function periodsWithDrafts(prisma: PrismaClient, endedBefore?: Date): Promise<Period[]> {
  const rows = await prisma.tenantInvoice.findMany({
    where: { status: 'draft', ...(endedBefore ? { periodEnd: { lte: endedBefore } } : {}) },
    distinct: ['periodStart'],
    select: { periodStart: true },
    orderBy: { periodStart: 'asc' },
  });
  return rows.map((r) => periodOf(r.periodStart));
}

export async function issueDrafts(deps: IssueDraftsDeps, input: { period: Period; tenantId?: string | null; actor: string }): Promise<IssueSummary> {
  const [refresh] = await refreshDrafts(deps, { period: input.period, tenantId: input.tenantId ?? null });
  const drafts = await deps.prisma.tenantInvoice.findMany({
    where: { periodStart: input.period.start, status: 'draft', ...(input.tenantId ? { tenantId: input.tenantId } : {}) },
    include: { tenant: { select: { slug: true } } },
    orderBy: { tenant: { slug: 'asc' } },
  });
  const summary: IssueSummary = {
    period: input.period.key,
    tenant_id: input.tenantId ?? null,
    drafts: drafts.length,
    refreshed: refresh?.regenerated ?? 0,
    issued: 0,
    failed: 0,
    pushed: 0,
    push_failed: 0,
    push_retrying: 0,
    push_skipped: 0,
    invoices: [],
    failures: [],
  };
  let done = 0;
  deps.onProgress?.({ done, total: drafts.length });
  for (const draft of drafts) {
    try {
      const result = await issueInvoice(deps, { invoiceId: draft.id, actor: input.actor });
      if (result.outcome === 'issued') {
        summary.issued += 1;
        const push = result.delivery ? await deliverNow(deps, result.delivery) : 'unchanged';
        if (push === 'delivered') summary.pushed += 1;
        else if (push === 'failed') summary.push_failed += 1;
        else if (push === 'retry') summary.push_retrying += 1;
        else if (push === 'skipped') summary.push_skipped += 1;
        const issued = await deps.prisma.tenantInvoice.findUniqueOrThrow({ where: { id: draft.id }, select: { totalMinor: true, currency: true } });
        summary.invoices.push({ invoice_id: draft.id, tenant_slug: draft.tenant.slug, number: result.number!, total: moneyJson(issued.totalMinor, issued.currency), push });
      }
    } catch (error) {
      summary.failed += 1;
      invoiceIssues.inc({ outcome: 'failed' });
      summary.failures.push({ invoice_id: draft.id, tenant_slug: draft.tenant.slug, error: (error as Error).message });
      deps.logger?.error({ err: error, invoiceId: draft.id }, 'issuing failed for invoice');
    }
    done += 1;
    deps.onProgress?.({ done, total: drafts.length });
  }
  return summary;
}

/** One delivery attempt now; a transient failure is left to the queued job's retries. */
async function deliverNow(deps: IssueDraftsDeps, delivery: { id: string; state: 'pending' | 'skipped' }): Promise<'delivered' | 'failed' | 'retry' | 'skipped' | 'unchanged'> {
  if (delivery.state === 'skipped') return 'skipped';
  try {
    const outcome = await deliverReceivable({ prisma: deps.prisma, finance: deps.receivables.finance, now: () => deps.now, logger: deps.logger }, delivery.id);
    return outcome === 'retry' ? 'retry' : outcome;
  } catch (error) {
    if (error instanceof FinanceUnavailableError) return 'retry';
    throw error;
  }
}

/**
 * The hourly issue sweep: every period whose grace has passed (INVOICE_GRACE_HOURS after its end)
 * and still has drafts is issued; and any receivable still pending without a job (written by a
 * process without pg-boss) gets one.
 */
export async function issueDuePeriods(deps: IssueDraftsDeps, actor = 'system:invoice-issue'): Promise<IssueSummary[]> {
  const dueBefore = new Date(deps.now.getTime() - deps.receivables.graceHours * 3600_000);
  const summaries: IssueSummary[] = [];
  for (const period of await periodsWithDrafts(deps.prisma, dueBefore)) {
    summaries.push(await issueDrafts(deps, { period, actor }));
  }
  if (deps.receivables.boss) {
    const stale = new Date(deps.now.getTime() - 5 * 60_000);
    const pending = await deps.prisma.receivableDelivery.findMany({ where: { state: 'pending', createdAt: { lt: stale } }, select: { id: true } });
    for (const row of pending) await queueDelivery(deps.receivables.boss, row.id);
  }
  return summaries;
}
