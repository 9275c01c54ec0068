// Marks a cloud resource deleted at an instant; its billable life is [created_at, deleted_at).
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import type { CloudResource } from '../generated/prisma/client.ts';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.ts';
import { instant } from '../http/request-support.ts';

/** The body is optional: a POST without one deletes now. */
export const deleteResourceBody = z.strictObject({ deleted_at: instant.optional() }).nullish();

/**
 * Idempotent: deleting an already deleted resource answers it unchanged when no deleted_at is
 * given or the same one is; a different deleted_at is a 409 (the recorded one is never moved).
 */
export async function deleteResource(db: Db, id: string, deletedAt: Date | undefined, now: Date): Promise<CloudResource> {
  const resource = await db.cloudResource.findUnique({ where: { id } });
  if (!resource) throw new NotFoundError('resource');
  const at = deletedAt ?? now;
  if (resource.deletedAt === null) {
    if (at > now) throw new ValidationError({ field: 'deleted_at', message: 'must not be in the future' });
    if (at < resource.createdAt) {
      throw new ValidationError({ field: 'deleted_at', message: `must not be before created_at (${resource.createdAt.toISOString()})` });
    }
    // Conditional update: of two concurrent deletes only one sets deleted_at.
    const { count } = await db.cloudResource.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: at } });
    if (count === 1) return db.cloudResource.findUniqueOrThrow({ where: { id } });
  }
  const current = await db.cloudResource.findUniqueOrThrow({ where: { id } });
  if (deletedAt && current.deletedAt && current.deletedAt.getTime() !== deletedAt.getTime()) {
    throw new ConflictError('resource_already_deleted', `the resource was already deleted at ${current.deletedAt.toISOString()}`, {
      field: 'deleted_at',
      details: { deleted_at: current.deletedAt.toISOString() },
    });
  }
  return current;
}
