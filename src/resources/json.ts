import type { CloudResource } from '../generated/prisma/client.ts';
import { isoOrNull } from '../http/request-support.ts';

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
