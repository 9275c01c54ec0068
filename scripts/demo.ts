// npm run demo — a real month close on the embedded PostgreSQL: migrate, seed the pilot scenario,
// close April 2026, close again (skipped), issue the invoice as INV-2026-000001 and print it. Safe to re-run.
import { createRun, executeRun } from '../src/invoicing/month-close-runs.ts';
import { parsePeriod } from '../src/invoicing/period.ts';
import { issueDrafts } from '../src/invoicing/issue-drafts.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
import { startRuntime } from '../src/platform/runtime.ts';
import { invoiceReport, summaryTable } from './lib/report.ts';
import { seedPilotScenario } from './lib/pilot-scenario.ts';

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
  }

  // Finance's early issue: the draft becomes tax invoice INV-2026-000001 (gap-free numbering);
  // without FINANCE_URL its delivery to finance is recorded as skipped.
  const pilot = await prisma.tenant.findUniqueOrThrow({ where: { slug: 'pilot' } });
  const issue = await issueDrafts({ prisma, now: new Date(), receivables: receivablesSettings(runtime.config) }, { period, tenantId: pilot.id, actor: 'demo' });
  console.log(`\n== Issue ${period.key}: ${issue.issued > 0 ? `issued ${issue.invoices.map((i) => i.number).join(', ')}` : 'already issued (nothing to do)'}`);
  console.log(`\n${await invoiceReport(prisma, 'pilot', period.start)}`);
  await runtime.shutdown(0);
} catch (error) {
  console.error(error);
  await runtime.shutdown(1);
}
