// npm run demo — a real month close on the embedded PostgreSQL: migrate, seed the pilot scenario,
// close April 2026, print the invoice, then close again and show it was skipped. Safe to re-run.
import { createRun, executeRun } from '../src/invoicing/month-close-runs.ts';
import { parsePeriod } from '../src/invoicing/period.ts';
import { startRuntime } from '../src/platform/runtime.ts';
import { invoiceReport, summaryTable } from './lib/report.ts';
import { seedPilotScenario } from './lib/pilot-scenario.ts';
import { demoMargin } from './lib/demo-margin.ts';

const runtime = await startRuntime();
const { prisma } = runtime;
try {
  console.log(`database: ${runtime.config.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${runtime.config.EMBEDDED_PG_DIR}`}`);
  await seedPilotScenario(prisma);
  const period = parsePeriod('2026-04');

  for (const pass of ['first close', 'second close (expect: skipped)']) {
    const runId = await createRun(prisma, { period, trigger: 'demo', requestedBy: 'demo' });
    const summary = await executeRun({ prisma, now: new Date() }, runId);
    console.log(`\n== Month close ${period.key}, ${pass}`);
    console.log(summaryTable(summary));
    if (pass === 'first close') console.log(`\n${await invoiceReport(prisma, 'pilot', period.start)}`);
  }
  console.log(`\n== Revenue, cost and margin, ${period.key}\n${await demoMargin(prisma, { config: runtime.config })}`);
  await runtime.shutdown(0);
} catch (error) {
  console.error(error);
  await runtime.shutdown(1);
}
