// npm run demo — a real month close on the embedded PostgreSQL: migrate, seed the pilot scenario,
// close April 2026, close again (skipped), issue the invoice as INV-2026-000001 and print it. Safe to re-run.
// Human output only: logs go to .data/demo.log unless LOG_LEVEL is set.
import { createRun, executeRun } from '../src/invoicing/month-close-runs.ts';
import type { MonthCloseSummary } from '../src/invoicing/month-close.ts';
import { parsePeriod } from '../src/invoicing/period.ts';
import { issueDrafts } from '../src/invoicing/issue-drafts.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
import { startRuntime } from '../src/platform/runtime.ts';
import { invoiceReport, summaryTable } from './lib/report.ts';
import { seedPilotScenario } from './lib/pilot-scenario.ts';
import { demoMargin } from './lib/demo-margin.ts';

const LOG_FILE = '.data/demo.log';
const runtime = await startRuntime({ logFile: LOG_FILE });
const { prisma } = runtime;

/** A heading that says what this close actually did, true on the first run and on every re-run. */
function heading(summary: MonthCloseSummary, pass: number): string {
  const did =
    summary.created > 0
      ? `created ${summary.created} invoice(s)`
      : summary.skipped > 0
        ? summary.skipped === 1
          ? 'skipped 1: the invoice exists, and a close without --force leaves it as it is'
          : `skipped ${summary.skipped}: the invoices exist, and a close without --force leaves them as they are`
        : 'nothing to invoice';
  return `== Month close ${summary.period}, close ${pass} of 2: ${did}`;
}

try {
  console.log(`database: ${runtime.config.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${runtime.config.EMBEDDED_PG_DIR}`}`);
  if (process.env.LOG_LEVEL === undefined) console.log(`logs: ${LOG_FILE} (set LOG_LEVEL to see them here)`);
  await seedPilotScenario(prisma);
  const period = parsePeriod('2026-04');

  for (const pass of [1, 2]) {
    const runId = await createRun(prisma, { period, trigger: 'demo', requestedBy: 'demo' });
    const summary = await executeRun({ prisma, now: new Date() }, runId);
    console.log(`\n${heading(summary, pass)}`);
    console.log(summaryTable(summary));
  }

  // Finance's early issue: the draft becomes tax invoice INV-2026-000001 (gap-free numbering);
  // without FINANCE_URL its delivery to finance is recorded as skipped.
  const pilot = await prisma.tenant.findUniqueOrThrow({ where: { slug: 'pilot' } });
  const issue = await issueDrafts({ prisma, now: new Date(), receivables: receivablesSettings(runtime.config) }, { period, tenantId: pilot.id, actor: 'demo' });
  console.log(`\n== Issue ${period.key}: ${issue.issued > 0 ? `issued ${issue.invoices.map((i) => i.number).join(', ')}` : 'already issued (nothing to do)'}`);
  console.log(`\n${await invoiceReport(prisma, 'pilot', period.start)}`);
  console.log(`\n== Revenue, cost and margin, ${period.key}\n${await demoMargin(prisma, { config: runtime.config })}`);
  console.log(
    '\nNext: `npm start` runs the API and the workers. At start-up its catch-up closes any of the last\n' +
      '3 ended months that has no completed close yet, so expect pilot invoices for those months too,\n' +
      'issued by the hourly invoice-issue job once their 72 h grace has passed: right for production,\n' +
      'where no month may go uninvoiced because no worker ran on the 1st.',
  );
  await runtime.shutdown(0);
} catch (error) {
  console.error(error);
  await runtime.shutdown(1);
}
