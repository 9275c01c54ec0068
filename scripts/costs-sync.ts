// npm run costs:sync [-- --all] [--redeliver]
// The cost side once, in this process (no worker needed): the provider's billing history, then the
// CSV ingest and the vendor-bill push of every invoice not ingested yet (--all: every invoice;
// unchanged CSVs are no-ops). A bill finance refused (4xx) is not sent again while its CSV is
// unchanged, unless --redeliver. Prints a summary table and exits 1 if any ingest failed.
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { financeOptionsFromConfig, providerClientFromConfig } from '../src/costs/clients.ts';
import { closeFinanceAgent } from '../src/costs/finance-client.ts';
import { syncCosts, type SyncCostsSummary } from '../src/costs/sync-costs.ts';
import { startRuntime } from '../src/platform/runtime.ts';
import { progressReporter } from './lib/report.ts';

const { values } = parseArgs({ options: { all: { type: 'boolean', default: false }, redeliver: { type: 'boolean', default: false } } });

const runtime = await startRuntime({ logFile: '.data/costs-sync.log' }); // human output; logs to the file unless LOG_LEVEL is set
const provider = providerClientFromConfig(runtime.config, runtime.logger);
if (!provider) {
  console.error('PROVIDER_TOKEN is not set: there is no provider to sync from (PROVIDER_API_URL defaults to DigitalOcean)');
  await runtime.shutdown(2);
} else {
  runtime.onShutdown(async () => {
    await provider.close();
    await closeFinanceAgent();
  });
  const finance = financeOptionsFromConfig(runtime.config);
  const progress = progressReporter('ingesting', 'invoices');
  try {
    const summary = await syncCosts(
      { prisma: runtime.prisma, provider, finance, now: () => new Date(), logger: runtime.logger, onProgress: progress.onProgress },
      { all: values.all, redeliver: values.redeliver },
    );
    progress.stop();
    console.log(costsSummaryTable(summary, finance !== null));
    await runtime.shutdown(summary.failed > 0 ? 1 : 0);
  } catch (error) {
    progress.stop();
    console.error(`error: ${(error as Error).message}`);
    await runtime.shutdown(1);
  }
}

function costsSummaryTable(s: SyncCostsSummary, financeConfigured: boolean): string {
  const table = new Table({
    head: ['invoices seen', 'new', 'ingested', 'unchanged', 'failed', 'lines', 'matched', 'amount mismatch', 'pushed', 'push skipped', 'push failed'],
  });
  table.push([s.invoices_seen, s.new_invoices, s.ingested, s.unchanged, s.failed, s.lines, s.matched, s.amount_mismatches, s.pushes.pushed, s.pushes.skipped, s.pushes.failed]);
  let out = table.toString();
  if (s.pushes.refused_before > 0) {
    out += `\n${s.pushes.refused_before} vendor bill(s) finance refused earlier were not sent again: their CSV is unchanged (--redeliver sends them)`;
  }
  if (!financeConfigured) out += '\nFINANCE_URL is not set: vendor bills were not pushed (recorded as skipped)';
  for (const f of s.failures) out += `\nFAILED ${f.step} ${f.invoice_uuid}: ${f.error}`;
  return out;
}
