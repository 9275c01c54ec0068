// npm run report:reconciliation -- --period 2026-04 [--csv file]
// Prints each provider invoice of the period split into matched, unowned, unmatched, tax and
// credits, and the costly unmatched or unowned resources (GET /api/v1/reports/cost-reconciliation).
import { writeFile } from 'node:fs/promises';
import { DomainError } from '../src/platform/errors.ts';
import { startRuntime } from '../src/platform/runtime.ts';
import { reconciliationReport } from '../src/reports/reconciliation.ts';
import { reconciliationCsv } from '../src/reports/render.ts';
import { cliArgs, periodArg } from './lib/cli-args.ts';
import { reconciliationTable } from './lib/reports-table.ts';

const USAGE = 'usage: npm run report:reconciliation -- --period YYYY-MM [--csv file]';
const values = cliArgs(USAGE, { period: { type: 'string' }, csv: { type: 'string' } });
const period = periodArg(values.period, USAGE);
const runtime = await startRuntime();
try {
  const report = await reconciliationReport(runtime.prisma, period);
  console.log(reconciliationTable(report));
  if (values.csv) {
    await writeFile(values.csv, reconciliationCsv(report));
    console.log(`CSV written to ${values.csv}`);
  }
  // Exit 1 when an invoice does not reconcile, so a scheduled run can alert.
  await runtime.shutdown(report.totals.reconciles ? 0 : 1);
} catch (error) {
  console.error(error instanceof DomainError ? `error: ${error.message}` : error);
  await runtime.shutdown(1);
}
