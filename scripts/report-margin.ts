// npm run report:margin -- --period 2026-04 [--currency AUD] [--csv file]
// Prints margin per tenant and deployment (the same figures as GET /api/v1/reports/margin).
import { writeFile } from 'node:fs/promises';
import { isCurrencyCode } from '../src/money/money.ts';
import { DomainError } from '../src/platform/errors.ts';
import { startRuntime } from '../src/platform/runtime.ts';
import { marginReport } from '../src/reports/margin.ts';
import { marginCsv } from '../src/reports/render.ts';
import { cliArgs, periodArg, usageError } from './lib/cli-args.ts';
import { marginTable } from './lib/reports-table.ts';

const USAGE = 'usage: npm run report:margin -- --period YYYY-MM [--currency AUD] [--csv file]';
const values = cliArgs(USAGE, { period: { type: 'string' }, currency: { type: 'string', default: 'AUD' }, csv: { type: 'string' } });
const period = periodArg(values.period, USAGE);
if (!isCurrencyCode(values.currency)) usageError(USAGE, '--currency must be an ISO 4217 code, e.g. AUD');
const runtime = await startRuntime();
try {
  const report = await marginReport(runtime.prisma, period, values.currency);
  console.log(marginTable(report));
  if (values.csv) {
    await writeFile(values.csv, marginCsv(report));
    console.log(`CSV written to ${values.csv}`);
  }
  await runtime.shutdown(0);
} catch (error) {
  console.error(error instanceof DomainError ? `error: ${error.message}` : error);
  await runtime.shutdown(1);
}
