// balance-snapshot: stores the provider's account balance as it reports it, once per run.
import type { Db } from '../platform/database.ts';
import type { ProviderClient } from './provider-client.ts';
import { insertBalanceSnapshot, type BalanceSnapshotRow } from './repository.ts';
import { requireUsdMicros } from './usd.ts';

export interface SnapshotBalanceDeps {
  prisma: Db;
  provider: ProviderClient;
  now: Date;
}

export async function snapshotBalance(deps: SnapshotBalanceDeps): Promise<BalanceSnapshotRow> {
  const balance = await deps.provider.getBalance();
  // NUMERIC(20,6) would round anything finer than a micro-dollar: refuse it instead.
  for (const field of ['month_to_date_balance', 'account_balance', 'month_to_date_usage'] as const) requireUsdMicros(balance[field], field);
  return insertBalanceSnapshot(deps.prisma, {
    monthToDateBalance: balance.month_to_date_balance,
    accountBalance: balance.account_balance,
    monthToDateUsage: balance.month_to_date_usage,
    generatedAt: new Date(balance.generated_at),
    fetchedAt: deps.now,
  });
}
