// Deployment queries. Each takes a Db (or a Tx when it only makes sense inside a transaction).
import type { Db, Tx } from '../platform/database.ts';
import type { Deployment, DeploymentEvent, DeploymentState } from '../generated/prisma/client.ts';
import { afterCursor, pageOrder, toPage, type PageCursor } from '../http/request-support.ts';
import { orderEvents } from './lifecycle.ts';

/**
 * Locks the deployment row (SELECT ... FOR UPDATE) for the rest of the transaction and returns it.
 * Every write to a deployment's lifecycle or subscription takes this lock first, so two requests on
 * the same deployment run one after the other and each sees what the previous one committed.
 */
export async function lockDeployment(tx: Tx, id: string): Promise<Deployment | null> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM deployments WHERE id = ${id}::uuid FOR UPDATE`;
  if (rows.length === 0) return null;
  return tx.deployment.findUnique({ where: { id } });
}

export async function findDeployment(db: Db, id: string): Promise<Deployment | null> {
  return db.deployment.findUnique({ where: { id } });
}

export async function listDeployments(
  db: Db,
  query: { tenantId?: string | undefined; state?: DeploymentState | undefined; limit: number; cursor?: PageCursor | undefined },
) {
  const rows = await db.deployment.findMany({
    where: {
      ...(query.tenantId ? { tenantId: query.tenantId } : {}),
      ...(query.state ? { state: query.state } : {}),
      ...afterCursor(query.cursor),
    },
    orderBy: pageOrder,
    take: query.limit + 1,
  });
  return toPage(rows, query.limit);
}

/** The deployment's lifecycle events in the order they happened (see orderEvents for ties). */
export async function listDeploymentEvents(db: Db, deploymentId: string): Promise<DeploymentEvent[]> {
  const events = await db.deploymentEvent.findMany({ where: { deploymentId }, orderBy: { at: 'asc' } });
  return orderEvents(events);
}

/**
 * The latest instant anything was recorded for this deployment: a lifecycle event, a subscription
 * start or end, a segment boundary, an add-on attach or detach. The timeline is append-only: a
 * transition or subscription change may not be dated before it, so segments and add-on rows never
 * overlap and are never rewritten in the past.
 */
export async function lastRecordedChangeAt(db: Db, deploymentId: string): Promise<Date | null> {
  const rows = await db.$queryRaw<{ at: Date | null }[]>`
    SELECT GREATEST(
      (SELECT max(e.at) FROM deployment_events e WHERE e.deployment_id = ${deploymentId}::uuid),
      (SELECT max(GREATEST(s.started_at, s.ended_at)) FROM subscriptions s WHERE s.deployment_id = ${deploymentId}::uuid),
      (SELECT max(GREATEST(g.valid_from, g.valid_to)) FROM subscription_segments g
         JOIN subscriptions s ON s.id = g.subscription_id WHERE s.deployment_id = ${deploymentId}::uuid),
      (SELECT max(GREATEST(a.attached_at, a.detached_at)) FROM subscription_addons a
         JOIN subscriptions s ON s.id = a.subscription_id WHERE s.deployment_id = ${deploymentId}::uuid)
    ) AS at`;
  const at = rows[0]?.at ?? null;
  return at === null ? null : new Date(at);
}
