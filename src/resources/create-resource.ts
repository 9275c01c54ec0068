// Records a cloud resource (a droplet, a volume, ...) and when it was created at the provider.
// (provider, provider_resource_id) is unique: a second POST for the same resource is a 409, never
// an overwrite, so billed history cannot be changed by a replay.
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import type { CloudResource } from '../generated/prisma/client.ts';
import { ConflictError, ValidationError } from '../platform/errors.ts';
import { instant, slug, uuid } from '../http/request-support.ts';
import { RESOURCE_KINDS } from './kinds.ts';

export const createResourceBody = z.strictObject({
  provider: slug.default('digitalocean'),
  provider_resource_id: z.string().trim().min(1).max(200),
  kind: z.enum(RESOURCE_KINDS),
  name: z.string().trim().min(1).max(200),
  size: z.string().trim().min(1).max(100).optional(),
  deployment_id: uuid.optional(),
  created_at: instant,
});

export type CreateResourceInput = z.output<typeof createResourceBody>;

export async function createResource(db: Db, input: CreateResourceInput, now: Date): Promise<CloudResource> {
  if (input.created_at > now) throw new ValidationError({ field: 'created_at', message: 'must not be in the future' });
  if (input.deployment_id && !(await db.deployment.findUnique({ where: { id: input.deployment_id }, select: { id: true } }))) {
    throw new ValidationError({ field: 'deployment_id', message: `no deployment with id ${input.deployment_id}` }, 'deployment_not_found');
  }
  // INSERT ... ON CONFLICT DO NOTHING: a duplicate inserts nothing (count 0) instead of failing,
  // and is never an upsert.
  const { count } = await db.cloudResource.createMany({
    data: [
      {
        provider: input.provider,
        providerResourceId: input.provider_resource_id,
        kind: input.kind,
        name: input.name,
        size: input.size ?? null,
        deploymentId: input.deployment_id ?? null,
        createdAt: input.created_at,
      },
    ],
    skipDuplicates: true,
  });
  const row = await db.cloudResource.findUniqueOrThrow({
    where: { provider_providerResourceId: { provider: input.provider, providerResourceId: input.provider_resource_id } },
  });
  if (count === 0) {
    throw new ConflictError('resource_exists', `${input.provider} resource "${input.provider_resource_id}" is already recorded`, {
      field: 'provider_resource_id',
      details: { existing_id: row.id },
    });
  }
  return row;
}
