// billing-history-sync: daily, upserts a header per provider invoice and queues invoice-ingest
// for each invoice whose CSV is not stored yet.
import { syncBillingHistory } from '../src/costs/sync-billing-history.ts';
import type { JobDeps } from './worker.ts';

export async function handleBillingHistorySync(deps: JobDeps) {
  if (!deps.provider) {
    deps.logger.warn({ queue: 'billing-history-sync' }, 'PROVIDER_TOKEN is not set: the cloud provider is not configured, nothing done');
    return { skipped: 'provider_not_configured' as const };
  }
  const result = await syncBillingHistory({ prisma: deps.prisma, boss: deps.boss, provider: deps.provider, now: deps.now(), logger: deps.logger });
  return { invoices: result.invoices, created: result.created, queued: result.queued, notIngested: result.notIngested.length, pushesQueued: result.pushesQueued };
}
