// Resource hours per deployment and resource kind in a period, aggregated in the database.
// Each resource contributes the overlap of [created_at, deleted_at) with [from, to), and a started
// hour counts as a full hour (as the provider bills), so the overlap is rounded UP per resource.
import { Prisma } from '../generated/prisma/client.ts';
import { queryRows, type Db } from '../platform/database.ts';

export interface ResourceHours {
  deploymentId: string;
  resourceKind: string;
  hours: bigint;
  resourceCount: number;
}

/**
 * `to` is the period end for a month close, or "now" for a projection of the month so far.
 */
export async function resourceHoursByDeployment(
  db: Db,
  deploymentIds: string[],
  range: { from: Date; to: Date },
): Promise<ResourceHours[]> {
  if (deploymentIds.length === 0 || range.to <= range.from) return [];
  const rows = await queryRows<{ deployment_id: string; kind: string; hours: string; resource_count: number }>(db, Prisma.sql`
    SELECT r.deployment_id::text AS deployment_id,
           r.kind,
           SUM(CEIL(EXTRACT(EPOCH FROM (LEAST(COALESCE(r.deleted_at, ${range.to}::timestamptz), ${range.to}::timestamptz)
                                      - GREATEST(r.created_at, ${range.from}::timestamptz))) / 3600))::bigint::text AS hours,
           COUNT(*)::int AS resource_count
      FROM cloud_resources r
     WHERE r.deployment_id = ANY(${deploymentIds}::uuid[])
       AND r.created_at < ${range.to}::timestamptz
       AND (r.deleted_at IS NULL OR r.deleted_at > ${range.from}::timestamptz)
     GROUP BY r.deployment_id, r.kind
     ORDER BY r.deployment_id, r.kind`, { prepared: true });
  return rows.map((r) => ({ deploymentId: r.deployment_id, resourceKind: r.kind, hours: BigInt(r.hours), resourceCount: r.resource_count }));
}
