// The month close runs as operators browse them: newest first, filtered by period and status,
// keyset-paginated on (created_at, id) descending.
import type { Db } from '../platform/database.ts';
import { encodeCursor, type PageCursor } from '../http/request-support.ts';
import { runRecord, type RunRecord, type RunStatus } from './month-close-runs.ts';
import type { Period } from './period.ts';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'completed_with_failures', 'failed'] as const satisfies readonly RunStatus[];

export async function listRuns(
  db: Db,
  query: { period?: Period | undefined; status?: RunStatus | undefined; limit: number; cursor?: PageCursor | undefined },
): Promise<{ items: RunRecord[]; nextCursor: string | null }> {
  const cursor = query.cursor ?? null;
  const rows = await db.monthCloseRun.findMany({
    where: {
      ...(query.period ? { periodStart: query.period.start } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const items = rows.slice(0, query.limit).map(runRecord);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

/** A run as the API shows it (GET /jobs/:id and GET /month-close-runs). */
export function runJson(run: RunRecord) {
  return {
    id: run.id,
    status: run.status,
    period: run.period,
    trigger: run.trigger,
    force: run.force,
    dry_run: run.dryRun,
    reissue: run.reissue,
    tenant_id: run.tenantId,
    requested_by: run.requestedBy,
    reason: run.reason,
    error: run.error,
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    finished_at: run.finishedAt?.toISOString() ?? null,
  };
}
