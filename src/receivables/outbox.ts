// The receivables outbox: one row per document version to deliver to finance, written in the
// transaction that changed the document, with its pg-boss job queued in the same transaction
// (fromPrisma), so a rollback leaves neither a row nor a job behind.
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { Tx } from '../platform/database.ts';
import { QUEUES } from '../../jobs/catalog.ts';
import type { ReceivablePayload } from './payload.ts';

export interface OutboxDeps {
  /** Absent in a process without pg-boss: the row waits as pending for the hourly sweep or `finance:redeliver`. */
  boss?: PgBoss | undefined;
  /** False when FINANCE_URL is not set: the row is recorded as skipped and no job is queued. */
  financeConfigured: boolean;
}

export interface DeliveryRequest {
  documentType: 'invoice' | 'adjustment_note';
  documentId: string;
  /** 1 = issued, 2 = void for an invoice; 1 for an adjustment note. */
  version: number;
  invoiceId: string;
  tenantId: string;
  payload: ReceivablePayload;
}

export const INVOICE_ISSUED_VERSION = 1;
export const INVOICE_VOID_VERSION = 2;
export const NOTE_VERSION = 1;

export function idempotencyKey(documentId: string, version: number): string {
  return `${documentId}:${version}`;
}

/** Records one document version for delivery; a version already recorded is left as it is. */
export async function recordDelivery(tx: Tx, deps: OutboxDeps, request: DeliveryRequest): Promise<{ id: string; state: 'pending' | 'skipped' } | null> {
  const state = deps.financeConfigured ? 'pending' : 'skipped';
  const [row] = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO receivable_deliveries (document_type, document_id, version, invoice_id, tenant_id, idempotency_key, payload, state)
    VALUES (${request.documentType}::document_type, ${request.documentId}::uuid, ${request.version}, ${request.invoiceId}::uuid,
            ${request.tenantId}::uuid, ${idempotencyKey(request.documentId, request.version)}, ${JSON.stringify(request.payload)}::jsonb,
            ${state}::delivery_state)
    ON CONFLICT (document_id, version) DO NOTHING
    RETURNING id::text`;
  if (!row) return null;
  if (state === 'pending' && deps.boss) await queueDelivery(deps.boss, row.id, tx);
  return { id: row.id, state };
}

/** One job per delivery row (singleton on the row id): a sweep or a redrive that queues it again while it waits is a no-op. */
export async function queueDelivery(boss: PgBoss, deliveryId: string, tx?: Tx): Promise<string | null> {
  return boss.send(QUEUES.receivablePush, { deliveryId }, { singletonKey: deliveryId, ...(tx ? { db: fromPrisma(tx) } : {}) });
}
