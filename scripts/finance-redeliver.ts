// npm run finance:redeliver -- [--document <id>] [--failed]
// Sends receivables again after the cause of a failure is fixed: one document's undelivered
// versions (--document), or every failed and skipped one (--failed); with neither, the rows still
// pending. A version already delivered is never sent again.
import Table from 'cli-table3';
import { FinanceUnavailableError } from '../src/costs/finance-client.ts';
import { deliverReceivable, deliveriesToRedeliver } from '../src/receivables/deliver.ts';
import { startRuntime } from '../src/platform/runtime.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
import { cliArgs, idArg } from './lib/cli-args.ts';
import { tableStyle } from './lib/report.ts';

const USAGE = 'usage: npm run finance:redeliver -- [--document <id>] [--failed]';
const values = cliArgs(USAGE, { document: { type: 'string' }, failed: { type: 'boolean', default: false } });
idArg(values.document, 'document', USAGE);

const runtime = await startRuntime({ logFile: '.data/finance-redeliver.log' }); // human output; logs to the file unless LOG_LEVEL is set
try {
  const { finance } = receivablesSettings(runtime.config);
  if (!finance) {
    console.error('FINANCE_URL is not set: nothing can be delivered');
    await runtime.shutdown(1);
  }
  const ids = await deliveriesToRedeliver(runtime.prisma, { documentId: values.document, failed: values.failed });
  const counts = { delivered: 0, failed: 0, retry: 0, unchanged: 0, skipped: 0 };
  const rows = new Table({ ...tableStyle, head: ['delivery', 'document', 'outcome', 'detail'] });
  for (const id of ids) {
    let outcome: keyof typeof counts;
    let detail = '';
    try {
      outcome = await deliverReceivable({ prisma: runtime.prisma, finance, now: () => new Date(), logger: runtime.logger }, id, { redeliver: true });
    } catch (error) {
      if (!(error instanceof FinanceUnavailableError)) throw error;
      outcome = 'retry';
      detail = error.message;
    }
    counts[outcome] += 1;
    const row = await runtime.prisma.receivableDelivery.findUniqueOrThrow({ where: { id } });
    if (outcome === 'failed') detail = `HTTP ${row.lastErrorStatus ?? '—'}: ${row.lastError ?? ''}`.slice(0, 200);
    rows.push([id, `${row.documentType} ${row.documentId} v${row.version}`, outcome, detail]);
  }
  if (ids.length > 0) console.log(rows.toString());
  console.log(`${ids.length} to deliver: ${counts.delivered} delivered, ${counts.failed} failed, ${counts.retry} finance unavailable, ${counts.unchanged} unchanged`);
  await runtime.shutdown(counts.failed + counts.retry > 0 ? 1 : 0);
} catch (error) {
  console.error(error);
  await runtime.shutdown(1);
}
