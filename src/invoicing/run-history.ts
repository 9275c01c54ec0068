// The month close runs as operators browse them: newest first, filtered by period and status,
// keyset-paginated on (created_at, id) descending.
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import { ValidationError } from '../platform/errors.ts';
import type { RunRecord, RunStatus } from './month-close-runs.ts';
import { periodOf, type Period } from './period.ts';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'completed_with_failures', 'failed'] as const satisfies readonly RunStatus[];

const cursorShape = z.object({ t: z.iso.datetime(), id: z.uuid() });

function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ t: row.createdAt.toISOString(), id: row.id })).toString('base64url');
}

function decodeCursor(value: string): { createdAt: Date; id: string } {
  try {
    const parsed = cursorShape.parse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return { createdAt: new Date(parsed.t), id: parsed.id };
  } catch {
    throw new ValidationError({ field: 'cursor', message: 'is not a cursor returned by this endpoint' });
  }
}

export async function listRuns(
  db: Db,
  query: { period?: Period | undefined; status?: RunStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: RunRecord[]; nextCursor: string | null }> {
  const cursor = query.cursor ? decodeCursor(query.cursor) : null;
  const rows = await db.monthCloseRun.findMany({
    where: {
      ...(query.period ? { periodStart: query.period.start } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const items = rows.slice(0, query.limit).map(
    (run): RunRecord => ({
      id: run.id,
      period: periodOf(run.periodStart).key,
      trigger: run.trigger,
      force: run.force,
      dryRun: run.dryRun,
      reissue: run.reissue,
      tenantId: run.tenantId,
      requestedBy: run.requestedBy,
      reason: run.reason,
      status: run.status as RunStatus,
      jobId: run.jobId,
      summary: run.summary as RunRecord['summary'],
      error: run.error,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
    }),
  );
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
