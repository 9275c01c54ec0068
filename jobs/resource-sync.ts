// resource-sync: daily, upserts the provider's droplets and volumes into cloud_resources and marks
// the ones it no longer lists as deleted.
import { syncResources } from '../src/costs/sync-resources.ts';
import type { JobDeps } from './worker.ts';

export async function handleResourceSync(deps: JobDeps) {
  if (!deps.provider) {
    deps.logger.warn({ queue: 'resource-sync' }, 'PROVIDER_TOKEN is not set: the cloud provider is not configured, nothing done');
    return { skipped: 'provider_not_configured' as const };
  }
  return syncResources({ prisma: deps.prisma, provider: deps.provider, now: deps.now(), logger: deps.logger });
}
