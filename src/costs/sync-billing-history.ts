// billing-history-sync: walks the provider's whole billing history and keeps one header per
// invoice (INSERT ... ON CONFLICT (invoice_uuid) DO UPDATE). Each invoice whose CSV is not stored
// yet gets an invoice-ingest job, queued in the transaction that upserted its header (pg-boss
// fromPrisma) with the uuid as singletonKey: two syncs, even at once, queue it once. An ingested
// invoice whose vendor bill is not with finance yet (pending or skipped) gets its vendor-bill-push
// job queued again.
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { QUEUES } from '../../jobs/catalog.ts';
import { parsePeriod } from '../invoicing/period.ts';
import type { PrismaClient } from '../platform/database.ts';
import type { BillingHistoryEntry, ProviderClient } from './provider-client.ts';
import { findKnownHeaders, upsertHeader } from './repository.ts';
import { requireUsdMicros } from './usd.ts';

export interface SyncBillingHistoryDeps {
  prisma: PrismaClient;
  /** Queues the ingest jobs; null when the caller ingests the invoices itself. */
  boss: PgBoss | null;
  provider: ProviderClient;
  now: Date;
  logger?: Logger;
}

export interface SyncBillingHistoryResult {
  /** Billing history entries read, of every type (payments, credits...). */
  entries: number;
  /** Invoices in the history. */
  invoices: number;
  /** Headers created by this sync. */
  created: number;
  /** ingest jobs queued by this sync (an invoice already queued is not queued again). */
  queued: number;
  /** Invoices whose CSV is not stored yet (pending or failed), in history order. */
  notIngested: string[];
  /** vendor-bill-push jobs queued again for ingested invoices whose push is pending or was skipped. */
  pushesQueued: number;
}

export async function syncBillingHistory(deps: SyncBillingHistoryDeps): Promise<SyncBillingHistoryResult> {
  // The whole walk first: a page that fails throws before anything is written, and the job retries.
  const invoices = new Map<string, BillingHistoryEntry & { invoice_uuid: string }>();
  let entries = 0;
  for await (const entry of deps.provider.listBillingHistory()) {
    entries++;
    if (entry.type === 'Invoice' && entry.invoice_uuid) invoices.set(entry.invoice_uuid, { ...entry, invoice_uuid: entry.invoice_uuid });
  }

  const known = await findKnownHeaders(deps.prisma, [...invoices.keys()]);
  const result: SyncBillingHistoryResult = { entries, invoices: invoices.size, created: 0, queued: 0, notIngested: [], pushesQueued: 0 };
  for (const entry of invoices.values()) {
    requireUsdMicros(entry.amount, `billing history ${entry.invoice_uuid} amount`);
    // The billing month is only in the invoice summary: fetched once, for an invoice we do not know yet.
    let identity = known.get(entry.invoice_uuid);
    if (!identity) {
      const summary = await deps.provider.getInvoiceSummary(entry.invoice_uuid);
      identity = { invoiceId: entry.invoice_id ?? summary.invoice_id, period: parsePeriod(summary.billing_period, 'billing_period').start };
    }
    const header = { invoiceUuid: entry.invoice_uuid, ...identity, amount: entry.amount, description: entry.description, date: new Date(entry.date) };

    const outcome = await deps.prisma.$transaction(async (tx) => {
      const row = await upsertHeader(tx, header, deps.now);
      const send = async (queue: string) =>
        deps.boss ? (await deps.boss.send(queue, { invoiceUuid: entry.invoice_uuid }, { singletonKey: entry.invoice_uuid, db: fromPrisma(tx) })) !== null : false;
      if (row.ingestStatus !== 'ingested') return { row, ingestQueued: await send(QUEUES.invoiceIngest), pushQueued: false };
      // A push still pending (finance stayed down past the push job's retries), or skipped while
      // FINANCE_URL was not set, is queued again: configuring finance later pushes the backlog.
      const pushDue = row.pushStatus === 'pending' || row.pushStatus === 'skipped';
      return { row, ingestQueued: false, pushQueued: pushDue ? await send(QUEUES.vendorBillPush) : false };
    });
    if (outcome.row.inserted) result.created++;
    if (outcome.row.ingestStatus !== 'ingested') result.notIngested.push(entry.invoice_uuid);
    if (outcome.ingestQueued) result.queued++;
    if (outcome.pushQueued) result.pushesQueued++;
  }
  deps.logger?.info({ invoices: result.invoices, created: result.created, queued: result.queued }, 'billing history synced');
  return result;
}
