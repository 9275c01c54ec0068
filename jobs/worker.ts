// Registers every handler and schedule. Handlers are thin: parse the payload, call one use case.
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../src/platform/config.ts';
import type { PrismaClient } from '../src/platform/database.ts';
import { providerClientFromConfig } from '../src/costs/clients.ts';
import { closeFinanceAgent } from '../src/costs/finance-client.ts';
import type { ProviderClient } from '../src/costs/provider-client.ts';
import { COST_SCHEDULES, createQueues, QUEUES } from './catalog.ts';
import { handleMonthClose } from './month-close.ts';
import { handleMonthCloseChunk } from './month-close-chunk.ts';
import { handleMonthCloseCatchUp } from './month-close-catch-up.ts';
import { handleBalanceSnapshot } from './balance-snapshot.ts';
import { handleBillingHistorySync } from './billing-history-sync.ts';
import { handleInvoiceIngest } from './invoice-ingest.ts';
import { handleVendorBillPush } from './vendor-bill-push.ts';
import { handleResourceSync } from './resource-sync.ts';
import { handleDraftRefresh } from './draft-refresh.ts';
import { handleInvoiceIssue } from './invoice-issue.ts';
import { handleReceivablePush } from './receivable-push.ts';

export interface JobDeps {
  prisma: PrismaClient;
  boss: PgBoss;
  config: Config;
  logger: Logger;
  now: () => Date;
  /**
   * The cloud provider's client, one per worker process (one connection pool). startWorkers
   * builds it from PROVIDER_API_URL/PROVIDER_TOKEN when not given; without a token it stays
   * undefined and the cost jobs log that the provider is not configured and do nothing.
   */
  provider?: ProviderClient | undefined;
}

export interface StartWorkersOptions {
  catchUpOnStart?: boolean;
  /** How often idle workers poll (pg-boss default 2 s); tests lower it. */
  pollingIntervalSeconds?: number;
}

export async function startWorkers(deps: JobDeps, options: StartWorkersOptions = {}): Promise<void> {
  await createQueues(deps.boss);
  const log = deps.logger.child({ component: 'worker' });

  // The close polls at pg-boss's minimum: a slot that finished a chunk fetches the next at once
  // (a chunk outlasts the interval) and a rollup asked for through the API starts within 0.5 s,
  // where the default 2 s wait came between every plan and its chunks.
  const closePolling = { pollingIntervalSeconds: Math.min(options.pollingIntervalSeconds ?? 0.5, 0.5) };
  await deps.boss.work(QUEUES.monthClose, { includeMetadata: true, batchSize: 1, localConcurrency: deps.config.WORKER_CONCURRENCY, ...closePolling }, async ([job]) => {
    if (!job) return;
    return handleMonthClose({ ...deps, logger: log }, job);
  });
  // Chunks: every worker process takes them; pg-boss refreshes each job's heartbeat while it runs.
  await deps.boss.work(
    QUEUES.monthCloseChunk,
    { includeMetadata: true, batchSize: 1, localConcurrency: deps.config.WORKER_CONCURRENCY, ...closePolling },
    async ([job]) => {
      if (!job) return;
      return handleMonthCloseChunk({ ...deps, logger: log }, job);
    },
  );
  await deps.boss.work(QUEUES.monthCloseCatchUp, { batchSize: 1 }, async () => handleMonthCloseCatchUp({ ...deps, logger: log }));

  // Cost side. The provider client is built once here and closed once pg-boss has stopped (after
  // in-flight jobs finished), unless the caller passed its own.
  const ownProvider = deps.provider ? null : providerClientFromConfig(deps.config, log);
  const costDeps: JobDeps = { ...deps, logger: log, provider: deps.provider ?? ownProvider ?? undefined };
  deps.boss.once('stopped', () => {
    void ownProvider?.close();
    void closeFinanceAgent();
  });
  if (!costDeps.provider) log.warn('PROVIDER_TOKEN is not set: the cost jobs (balance, billing history, ingest, resources) will do nothing');
  const polling = options.pollingIntervalSeconds ? { pollingIntervalSeconds: options.pollingIntervalSeconds } : {};
  await deps.boss.work(QUEUES.balanceSnapshot, { batchSize: 1, ...polling }, async () => handleBalanceSnapshot(costDeps));
  await deps.boss.work(QUEUES.billingHistorySync, { batchSize: 1, ...polling }, async () => handleBillingHistorySync(costDeps));
  await deps.boss.work(QUEUES.resourceSync, { batchSize: 1, ...polling }, async () => handleResourceSync(costDeps));
  await deps.boss.work(QUEUES.invoiceIngest, { batchSize: 1, localConcurrency: 2, ...polling }, async ([job]) => {
    if (!job) return;
    return handleInvoiceIngest(costDeps, job);
  });
  await deps.boss.work(QUEUES.vendorBillPush, { batchSize: 1, localConcurrency: 2, ...polling }, async ([job]) => {
    if (!job) return;
    return handleVendorBillPush(costDeps, job);
  });

  // Receivables: refresh drafts, issue once the grace period has passed, deliver to finance.
  await deps.boss.work(QUEUES.draftRefresh, { batchSize: 1, ...polling }, async () => handleDraftRefresh({ ...deps, logger: log }));
  await deps.boss.work(QUEUES.invoiceIssue, { batchSize: 1, ...polling }, async () => handleInvoiceIssue({ ...deps, logger: log }));
  await deps.boss.work(QUEUES.receivablePush, { batchSize: 1, localConcurrency: 2, includeMetadata: true, ...polling }, async ([job]) => {
    if (!job) return;
    return handleReceivablePush({ ...deps, logger: log }, job);
  });

  // missed: 'once' sends the latest tick that came due while no scheduler ran; the catch-up job
  // covers anything older.
  await deps.boss.schedule(QUEUES.monthClose, deps.config.MONTH_CLOSE_CRON, { trigger: 'schedule' }, { tz: 'UTC', missed: 'once' });
  await deps.boss.schedule(QUEUES.monthCloseCatchUp, deps.config.MONTH_CLOSE_CATCH_UP_CRON, {}, { tz: 'UTC', missed: 'once' });
  for (const { queue, cron } of COST_SCHEDULES) await deps.boss.schedule(queue, cron, {}, { tz: 'UTC', missed: 'once' });
  await deps.boss.schedule(QUEUES.draftRefresh, deps.config.DRAFT_REFRESH_CRON, {}, { tz: 'UTC', missed: 'once' });
  await deps.boss.schedule(QUEUES.invoiceIssue, deps.config.INVOICE_ISSUE_CRON, {}, { tz: 'UTC', missed: 'once' });

  if (options.catchUpOnStart ?? true) {
    await deps.boss.send(QUEUES.monthCloseCatchUp, { reason: 'worker start-up' }, { singletonKey: 'start-up' });
  }
  log.info('workers started');
}
