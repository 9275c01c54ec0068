// The whole cost sync in one process, for the CLI (npm run costs:sync): the billing history, then
// the ingest and the vendor-bill push of every invoice with work left (CSV not stored, or bill not
// with finance), one after the other, through the same use cases the jobs call. Nothing is
// queued: an invoice that fails stays pending or failed, and a push finance could not take now
// stays pending, for the next run or the daily billing-history-sync to pick up.
import type { Logger } from 'pino';
import type { PrismaClient } from '../platform/database.ts';
import type { FinanceClientOptions } from './finance-client.ts';
import { ingestInvoice } from './ingest-invoice.ts';
import type { ProviderClient } from './provider-client.ts';
import { pushVendorBillForInvoice } from './push-vendor-bill.ts';
import { allInvoiceUuids, invoicesWithWorkLeft } from './repository.ts';
import { syncBillingHistory } from './sync-billing-history.ts';

export interface SyncCostsDeps {
  prisma: PrismaClient;
  provider: ProviderClient;
  finance: FinanceClientOptions | null;
  now: () => Date;
  logger?: Logger;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface SyncCostsSummary {
  /** Invoices in the provider's billing history. */
  invoices_seen: number;
  /** Of which new to us. */
  new_invoices: number;
  /** CSVs stored by this run (new or changed). */
  ingested: number;
  /** CSVs identical to the stored ones. */
  unchanged: number;
  failed: number;
  /** Lines stored by this run, and how many of them matched a resource. */
  lines: number;
  matched: number;
  amount_mismatches: number;
  /** refused_before: finance refused this very CSV earlier; not resent (redeliver sends it). */
  pushes: { pushed: number; skipped: number; failed: number; unchanged: number; refused_before: number };
  failures: { invoice_uuid: string; step: 'ingest' | 'push'; error: string }[];
}

export async function syncCosts(deps: SyncCostsDeps, options: { all?: boolean; redeliver?: boolean } = {}): Promise<SyncCostsSummary> {
  const history = await syncBillingHistory({ prisma: deps.prisma, boss: null, provider: deps.provider, now: deps.now(), ...(deps.logger ? { logger: deps.logger } : {}) });
  // --all re-reads every invoice: unchanged ones cost a download and a checksum, nothing more.
  const uuids = options.all ? await allInvoiceUuids(deps.prisma) : await invoicesWithWorkLeft(deps.prisma);
  const summary: SyncCostsSummary = {
    invoices_seen: history.invoices,
    new_invoices: history.created,
    ingested: 0,
    unchanged: 0,
    failed: 0,
    lines: 0,
    matched: 0,
    amount_mismatches: 0,
    pushes: { pushed: 0, skipped: 0, failed: 0, unchanged: 0, refused_before: 0 },
    failures: [],
  };
  deps.onProgress?.({ done: 0, total: uuids.length });
  for (const [i, invoiceUuid] of uuids.entries()) {
    try {
      const outcome = await ingestInvoice({ prisma: deps.prisma, boss: null, provider: deps.provider, now: deps.now(), ...(deps.logger ? { logger: deps.logger } : {}) }, { invoiceUuid });
      if (outcome.status === 'ingested') {
        summary.ingested++;
        summary.lines += outcome.lineCount;
        summary.matched += outcome.matchedCount;
        if (outcome.amountMismatch) summary.amount_mismatches++;
      } else summary.unchanged++;
    } catch (error) {
      summary.failed++;
      summary.failures.push({ invoice_uuid: invoiceUuid, step: 'ingest', error: (error as Error).message });
      deps.onProgress?.({ done: i + 1, total: uuids.length });
      continue;
    }
    try {
      // Also for an unchanged CSV: it may be a push still pending from an earlier run.
      const push = await pushVendorBillForInvoice({ prisma: deps.prisma, finance: deps.finance, now: deps.now(), ...(deps.logger ? { logger: deps.logger } : {}) }, { invoiceUuid, redeliver: options.redeliver ?? false });
      if (push.status === 'pushed') summary.pushes.pushed++;
      else if (push.status === 'skipped') summary.pushes.skipped++;
      else if (push.status === 'failed') {
        summary.pushes.failed++;
        summary.failures.push({ invoice_uuid: invoiceUuid, step: 'push', error: push.error });
      } else if (push.status === 'unchanged' && push.refused) summary.pushes.refused_before++;
      else summary.pushes.unchanged++;
    } catch (error) {
      summary.pushes.failed++;
      summary.failures.push({ invoice_uuid: invoiceUuid, step: 'push', error: (error as Error).message });
    }
    deps.onProgress?.({ done: i + 1, total: uuids.length });
  }
  return summary;
}
