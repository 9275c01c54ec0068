import type { CloudResource } from '../generated/prisma/client.ts';
import { isoOrNull } from '../http/request-support.ts';
import { z } from 'zod';
import { isoDateTime } from '../http/responses.ts';

export function resourceJson(r: CloudResource) {
  return {
    id: r.id,
    provider: r.provider,
    provider_resource_id: r.providerResourceId,
    kind: r.kind,
    name: r.name,
    size: r.size,
    deployment_id: r.deploymentId,
    created_at: r.createdAt.toISOString(),
    deleted_at: isoOrNull(r.deletedAt),
  };
}

export const resourceJsonSchema = z.strictObject({
  id: z.uuid(),
  provider: z.string(),
  provider_resource_id: z.string(),
  kind: z.string(),
  name: z.string(),
  size: z.string().nullable(),
  deployment_id: z.uuid().nullable(),
  created_at: isoDateTime,
  deleted_at: isoDateTime.nullable(),
});
