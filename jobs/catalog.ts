// Every queue, its options and its schedule in one place. Retries back off exponentially; a job
// that exhausts them lands in the dead-letter queue for an operator to look at and redrive.
import type { PgBoss } from 'pg-boss';

export const DEAD_LETTER_QUEUE = 'dead-letters';

export const QUEUES = {
  monthClose: 'month-close',
  monthCloseChunk: 'month-close-chunk',
  monthCloseCatchUp: 'month-close-catch-up',
  balanceSnapshot: 'balance-snapshot',
  billingHistorySync: 'billing-history-sync',
  invoiceIngest: 'invoice-ingest',
  vendorBillPush: 'vendor-bill-push',
  resourceSync: 'resource-sync',
  draftRefresh: 'draft-refresh',
  invoiceIssue: 'invoice-issue',
  receivablePush: 'receivable-push',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

interface QueueDefinition {
  retryLimit: number;
  retryDelay: number;
  retryDelayMax: number;
  expireInSeconds: number;
  policy?: 'standard' | 'singleton' | 'stately' | 'exclusive';
  /** The worker refreshes the job every heartbeatSeconds / 2; a job silent longer is failed and retried. */
  heartbeatSeconds?: number;
}

export const QUEUE_DEFINITIONS: Record<QueueName, QueueDefinition> = {
  // A month close is idempotent per tenant, so a retry after a crash completes the rest.
  // 'exclusive' + singletonKey: one queued-or-active close per key (the period, for system closes).
  [QUEUES.monthClose]: { retryLimit: 5, retryDelay: 30, retryDelayMax: 1800, expireInSeconds: 3600, policy: 'exclusive' },
  // One job per chunk of a close (singletonKey = run and chunk). A killed worker stops
  // heartbeating; the supervisor (every 15 s) fails its job after 20 s and it is retried on
  // another worker within about 40 s, not after the hour expireInSeconds allows.
  [QUEUES.monthCloseChunk]: { retryLimit: 8, retryDelay: 5, retryDelayMax: 600, expireInSeconds: 3600, policy: 'exclusive', heartbeatSeconds: 20 },
  [QUEUES.monthCloseCatchUp]: { retryLimit: 3, retryDelay: 60, retryDelayMax: 900, expireInSeconds: 300, policy: 'singleton' },

  // Cost side. Every handler is idempotent, so a retry or a second delivery is harmless.
  // 'exclusive': one queued-or-active job (per singletonKey): a tick that comes while the
  // previous run still retries is dropped, and an invoice is queued for ingest once however many
  // syncs see it (singletonKey = invoice uuid).
  [QUEUES.balanceSnapshot]: { retryLimit: 3, retryDelay: 60, retryDelayMax: 600, expireInSeconds: 300, policy: 'exclusive' },
  [QUEUES.billingHistorySync]: { retryLimit: 5, retryDelay: 60, retryDelayMax: 3600, expireInSeconds: 1800, policy: 'exclusive' },
  [QUEUES.invoiceIngest]: { retryLimit: 5, retryDelay: 30, retryDelayMax: 3600, expireInSeconds: 1800, policy: 'exclusive' },
  // 'stately': one queued AND one active per invoice, so a CSV changed while its previous push
  // is in flight still gets its own push.
  [QUEUES.vendorBillPush]: { retryLimit: 8, retryDelay: 30, retryDelayMax: 3600, expireInSeconds: 300, policy: 'stately' },
  [QUEUES.resourceSync]: { retryLimit: 5, retryDelay: 60, retryDelayMax: 1800, expireInSeconds: 900, policy: 'exclusive' },

  // Receivables. The refresh and the issue sweep are idempotent (an unchanged draft is left alone,
  // an issued invoice is not issued twice); 'exclusive' keeps one of each queued or running.
  [QUEUES.draftRefresh]: { retryLimit: 3, retryDelay: 60, retryDelayMax: 900, expireInSeconds: 1800, policy: 'exclusive' },
  [QUEUES.invoiceIssue]: { retryLimit: 3, retryDelay: 60, retryDelayMax: 900, expireInSeconds: 1800, policy: 'exclusive' },
  // One job per outbox row (singletonKey = row id). Finance down: backoff up to an hour, then the
  // row is marked failed with the reason and the job lands in the dead letters.
  [QUEUES.receivablePush]: { retryLimit: 8, retryDelay: 30, retryDelayMax: 3600, expireInSeconds: 300, policy: 'exclusive' },
};

/** Cost-side schedules (UTC). Resources are synced before the billing history so fresh invoices match fresh resources. */
export const COST_SCHEDULES: readonly { queue: QueueName; cron: string }[] = [
  { queue: QUEUES.balanceSnapshot, cron: '7 * * * *' },
  { queue: QUEUES.resourceSync, cron: '11 2 * * *' },
  { queue: QUEUES.billingHistorySync, cron: '23 2 * * *' },
];

export async function createQueues(boss: PgBoss): Promise<void> {
  await boss.createQueue(DEAD_LETTER_QUEUE, { retentionSeconds: 30 * 24 * 3600, deleteAfterSeconds: 30 * 24 * 3600 });
  for (const [name, def] of Object.entries(QUEUE_DEFINITIONS)) {
    await boss.createQueue(name, {
      policy: def.policy ?? 'standard',
      retryLimit: def.retryLimit,
      retryDelay: def.retryDelay,
      retryBackoff: true,
      retryDelayMax: def.retryDelayMax,
      expireInSeconds: def.expireInSeconds,
      deadLetter: DEAD_LETTER_QUEUE,
      ...(def.heartbeatSeconds ? { heartbeatSeconds: def.heartbeatSeconds } : {}),
    });
  }
}
