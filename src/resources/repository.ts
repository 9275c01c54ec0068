// Cloud resource queries. Each takes a Db so a caller's transaction can pass through.
import type { Db } from '../platform/database.ts';
import type { CloudResource } from '../generated/prisma/client.ts';
import { afterCursor, pageOrder, toPage, type PageCursor } from '../http/request-support.ts';

export async function findResource(db: Db, id: string): Promise<CloudResource | null> {
  return db.cloudResource.findUnique({ where: { id } });
}

export async function listResources(
  db: Db,
  query: { deploymentId?: string | undefined; kind?: string | undefined; limit: number; cursor?: PageCursor | undefined },
) {
  const rows = await db.cloudResource.findMany({
    where: {
      ...(query.deploymentId ? { deploymentId: query.deploymentId } : {}),
      ...(query.kind ? { kind: query.kind } : {}),
      ...afterCursor(query.cursor),
    },
    orderBy: pageOrder,
    take: query.limit + 1,
  });
  return toPage(rows, query.limit);
}
