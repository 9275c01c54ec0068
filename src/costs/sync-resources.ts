// resource-sync: brings cloud_resources in line with the provider's droplets and volumes.
//
// - Upsert by (provider, provider_resource_id): new resources are inserted with the provider's
//   created_at; known ones get their name and size updated. deployment_id is never written here:
//   assigning a resource to a deployment is an admin decision and the sync never reassigns it.
// - A droplet or volume the provider no longer lists is marked deleted at `now`, but only after
//   both listings completed: a listing that fails part-way writes nothing.
// - Then every cost line still unmatched is matched again (resources that appeared after their
//   invoice was ingested); matched lines are never touched.
import type { Logger } from 'pino';
import type { PrismaClient } from '../platform/database.ts';
import type { ProviderClient } from './provider-client.ts';
import { markUnlistedDeleted, matchAllUnmatchedLines, upsertProviderResources, type ProviderResource } from './repository.ts';

export interface SyncResourcesDeps {
  prisma: PrismaClient;
  provider: ProviderClient;
  now: Date;
  logger?: Logger;
}

export interface SyncResourcesResult {
  droplets: number;
  volumes: number;
  inserted: number;
  updated: number;
  markedDeleted: number;
  linesMatched: number;
}

export async function syncResources(deps: SyncResourcesDeps): Promise<SyncResourcesResult> {
  // Keyed by id: a resource created while we page can appear on two pages.
  const droplets = new Map<string, ProviderResource>();
  for await (const d of deps.provider.listDroplets()) {
    droplets.set(d.id, { kind: 'droplet', providerResourceId: d.id, name: d.name, size: d.size_slug, createdAt: new Date(d.created_at) });
  }
  const volumes = new Map<string, ProviderResource>();
  for await (const v of deps.provider.listVolumes()) {
    volumes.set(v.id, { kind: 'volume', providerResourceId: v.id, name: v.name, size: `${v.size_gigabytes}gb`, createdAt: new Date(v.created_at) });
  }

  const result = await deps.prisma.$transaction(
    async (tx) => {
      const { inserted, updated } = await upsertProviderResources(tx, [...droplets.values(), ...volumes.values()]);
      const markedDeleted =
        (await markUnlistedDeleted(tx, 'droplet', [...droplets.keys()], deps.now)) + (await markUnlistedDeleted(tx, 'volume', [...volumes.keys()], deps.now));
      const linesMatched = await matchAllUnmatchedLines(tx, deps.now);
      return { droplets: droplets.size, volumes: volumes.size, inserted, updated, markedDeleted, linesMatched };
    },
    { timeout: 5 * 60_000, maxWait: 30_000 },
  );
  deps.logger?.info(result, 'cloud resources synced');
  return result;
}
