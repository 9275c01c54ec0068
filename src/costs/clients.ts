// The cost side's two remote services, configured from the environment. A process builds the
// provider client once (one connection pool) and closes it at shutdown.
import type { Logger } from 'pino';
import type { Config } from '../platform/config.ts';
import type { FinanceClientOptions } from './finance-client.ts';
import { createProviderClient, type ProviderClient, type ProviderClientOptions } from './provider-client.ts';

/** The provider client, or null when PROVIDER_TOKEN is not set (the cost jobs then do nothing). */
export function providerClientFromConfig(
  config: Config,
  logger?: Pick<Logger, 'warn'>,
  overrides: Partial<ProviderClientOptions> = {},
): ProviderClient | null {
  if (!config.PROVIDER_TOKEN) return null;
  return createProviderClient({
    baseUrl: config.PROVIDER_API_URL,
    token: config.PROVIDER_TOKEN,
    ...(logger ? { logger } : {}),
    ...overrides,
  });
}

/** Where vendor bills go, or null when FINANCE_URL is not set (pushes are then recorded as skipped). */
export function financeOptionsFromConfig(config: Config): FinanceClientOptions | null {
  if (!config.FINANCE_URL || !config.FINANCE_JWT_SECRET) return null;
  return { financeUrl: config.FINANCE_URL, jwtSecret: config.FINANCE_JWT_SECRET };
}
