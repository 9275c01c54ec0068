// npm run month-close -- --period 2026-04 [--force [--reissue]] [--dry-run] [--tenant <id>] [--reason "..."]
// Runs one close in this process (no worker needed) and exits 1 if any tenant failed.
import { userInfo } from 'node:os';
import { createRun, executeRun } from '../src/invoicing/month-close-runs.ts';
import { DomainError } from '../src/platform/errors.ts';
import { cliArgs, idArg, periodArg, usageError } from './lib/cli-args.ts';
import { startCliRuntime } from './lib/cli-runtime.ts';
import { progressReporter, summaryTable } from './lib/report.ts';

const USAGE = 'usage: npm run month-close -- --period YYYY-MM [--force [--reissue]] [--dry-run] [--tenant <id>] [--reason "..."] [--by you@example.com]';
const values = cliArgs(USAGE, {
  period: { type: 'string' },
  force: { type: 'boolean', default: false },
  reissue: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  tenant: { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
});
const period = periodArg(values.period, USAGE);
if (values.reissue && !values.force) usageError(USAGE, '--reissue goes with --force');
idArg(values.tenant, 'tenant', USAGE);

const runtime = await startCliRuntime({ logFile: '.data/month-close.log' }); // human output; logs to the file unless LOG_LEVEL is set
const progress = progressReporter(`closing ${period.key}`);
try {
  const runId = await createRun(runtime.prisma, {
    period,
    trigger: 'cli',
    force: values.force,
    dryRun: values['dry-run'],
    reissue: values.reissue,
    tenantId: values.tenant ?? null,
    reason: values.reason ?? null,
    requestedBy: values.by ?? `cli:${userInfo().username}`,
  });
  const summary = await executeRun({ prisma: runtime.prisma, now: new Date(), logger: runtime.logger, onProgress: progress.onProgress, receivables: runtime.receivables }, runId);
  progress.stop();
  console.log(summaryTable(summary));
  await runtime.shutdown(summary.failed > 0 ? 1 : 0);
} catch (error) {
  progress.stop();
  console.error(error instanceof DomainError ? `error: ${error.message}` : error);
  await runtime.shutdown(1);
}
