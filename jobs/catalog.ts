// Every queue, its options and its schedule in one place. Retries back off exponentially; a job
// that exhausts them lands in the dead-letter queue for an operator to look at and redrive.
import type { PgBoss } from 'pg-boss';

export const DEAD_LETTER_QUEUE = 'dead-letters';

export const QUEUES = {
  monthClose: 'month-close',
  monthCloseCatchUp: 'month-close-catch-up',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

interface QueueDefinition {
  retryLimit: number;
  retryDelay: number;
  retryDelayMax: number;
  expireInSeconds: number;
  policy?: 'standard' | 'singleton' | 'stately' | 'exclusive';
}

export const QUEUE_DEFINITIONS: Record<QueueName, QueueDefinition> = {
  // A month close is idempotent per tenant, so a retry after a crash completes the rest.
  // 'exclusive' + singletonKey: one queued-or-active close per key (the period, for system closes).
  [QUEUES.monthClose]: { retryLimit: 5, retryDelay: 30, retryDelayMax: 1800, expireInSeconds: 3600, policy: 'exclusive' },
  [QUEUES.monthCloseCatchUp]: { retryLimit: 3, retryDelay: 60, retryDelayMax: 900, expireInSeconds: 300, policy: 'singleton' },
};

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
    });
  }
}
