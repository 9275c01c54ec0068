// Delivers one outbox row to finance. The row is locked for the whole attempt, so two workers (a
// retried job beside a live one, the CLI beside a worker) never send the same version at once,
// and a version once delivered is never sent again. Finance dedups on (tenant_id, source,
// external_id) and on the Idempotency-Key, so a lost response is simply delivered again.
import type { Logger } from 'pino';
import type { PrismaClient } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { receivablePushes } from '../platform/metrics.ts';
import {
  FinanceProtocolError,
  FinanceUnavailableError,
  importAnswerSchema,
  postToFinance,
  type FinanceClientOptions,
} from '../costs/finance-client.ts';

export const IMPORT_RECEIVABLE_PATH = '/api/v1/integrations/revenue/import-invoice';

export type DeliveryOutcome = 'delivered' | 'unchanged' | 'failed' | 'skipped' | 'retry';

export interface DeliverDeps {
  prisma: PrismaClient;
  /** Null when FINANCE_URL is not set. */
  finance: FinanceClientOptions | null;
  now: () => Date;
  logger?: Logger | undefined;
}

export interface DeliverOptions {
  /** Also send a row that failed (4xx) or was skipped: the operator fixed the cause. */
  redeliver?: boolean;
  /** The job's last retry: a transient failure now marks the row failed (it goes to the dead letters). */
  finalAttempt?: boolean;
}

interface Row {
  id: string;
  state: 'pending' | 'delivered' | 'failed' | 'skipped';
  idempotency_key: string;
  payload: unknown;
}

/** Delivers the row; throws FinanceUnavailableError (after recording it) when finance should be tried again later. */
export async function deliverReceivable(deps: DeliverDeps, deliveryId: string, options: DeliverOptions = {}): Promise<DeliveryOutcome> {
  let retry: FinanceUnavailableError | undefined;
  const outcome = await deps.prisma.$transaction(
    async (tx): Promise<DeliveryOutcome> => {
      const [row] = await tx.$queryRaw<Row[]>`
        SELECT id::text, state::text AS state, idempotency_key, payload FROM receivable_deliveries WHERE id = ${deliveryId}::uuid FOR UPDATE`;
      if (!row) throw new NotFoundError('receivable_delivery');
      if (row.state === 'delivered') return 'unchanged';
      if ((row.state === 'failed' || row.state === 'skipped') && !options.redeliver) return 'unchanged';
      if (!deps.finance) {
        await tx.$executeRaw`UPDATE receivable_deliveries SET state = 'skipped', updated_at = ${deps.now()} WHERE id = ${row.id}::uuid`;
        return 'skipped';
      }
      try {
        const answer = await postToFinance(deps.finance, IMPORT_RECEIVABLE_PATH, row.payload, { 'idempotency-key': row.idempotency_key });
        if (answer.status >= 400) {
          // Finance refused the document: not retried by itself; `finance:redeliver` sends it again once the cause is fixed.
          await tx.$executeRaw`
            UPDATE receivable_deliveries SET state = 'failed', attempts = attempts + 1, last_error_status = ${answer.status},
                   last_error = ${JSON.stringify(answer.body)}, updated_at = ${deps.now()} WHERE id = ${row.id}::uuid`;
          deps.logger?.warn({ deliveryId, status: answer.status }, 'finance refused a receivable');
          return 'failed';
        }
        const parsed = importAnswerSchema.safeParse(answer.body);
        if (!parsed.success) {
          throw new FinanceProtocolError(`POST ${IMPORT_RECEIVABLE_PATH}: unexpected answer, expected { action, invoice_id }`, {
            status: answer.status,
            endpoint: `POST ${IMPORT_RECEIVABLE_PATH}`,
            body: answer.body,
          });
        }
        await tx.$executeRaw`
          UPDATE receivable_deliveries SET state = 'delivered', attempts = attempts + 1, finance_id = ${parsed.data.invoice_id},
                 finance_action = ${parsed.data.action}, delivered_at = ${deps.now()}, last_error_status = NULL, last_error = NULL,
                 updated_at = ${deps.now()}
           WHERE id = ${row.id}::uuid`;
        return 'delivered';
      } catch (error) {
        if (!(error instanceof FinanceUnavailableError) && !(error instanceof FinanceProtocolError)) throw error;
        const status = error.status;
        const message = `${error.message}${error.body !== undefined && error.body !== null ? `: ${JSON.stringify(error.body)}` : ''}`;
        const final = options.finalAttempt || error instanceof FinanceProtocolError;
        await tx.$executeRaw`
          UPDATE receivable_deliveries SET attempts = attempts + 1, last_error_status = ${status}, last_error = ${message},
                 state = CASE WHEN ${final} THEN 'failed'::delivery_state ELSE state END, updated_at = ${deps.now()}
           WHERE id = ${row.id}::uuid`;
        if (final) return 'failed';
        retry = error instanceof FinanceUnavailableError ? error : undefined;
        return 'retry';
      }
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  receivablePushes.inc({ outcome });
  if (retry) throw retry;
  return outcome;
}

/** Rows to send again: one document's, or every failed and skipped one (`finance:redeliver`), or those still pending. */
export async function deliveriesToRedeliver(prisma: PrismaClient, filter: { documentId?: string | undefined; failed?: boolean }): Promise<string[]> {
  const states = filter.failed || filter.documentId ? ['pending', 'failed', 'skipped'] : ['pending'];
  const rows = await prisma.receivableDelivery.findMany({
    where: { state: { in: states as ('pending' | 'failed' | 'skipped')[] }, ...(filter.documentId ? { documentId: filter.documentId } : {}) },
    orderBy: [{ createdAt: 'asc' }, { version: 'asc' }],
    select: { id: true },
  });
  return rows.map((r) => r.id);
}
