// balance-snapshot: hourly, stores the provider's account balance.
import { snapshotBalance } from '../src/costs/snapshot-balance.ts';
import type { JobDeps } from './worker.ts';

export async function handleBalanceSnapshot(deps: JobDeps) {
  if (!deps.provider) {
    deps.logger.warn({ queue: 'balance-snapshot' }, 'PROVIDER_TOKEN is not set: the cloud provider is not configured, nothing done');
    return { skipped: 'provider_not_configured' as const };
  }
  const snapshot = await snapshotBalance({ prisma: deps.prisma, provider: deps.provider, now: deps.now() });
  return { snapshotId: snapshot.id, generatedAt: snapshot.generated_at.toISOString() };
}

