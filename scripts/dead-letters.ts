// npm run jobs:dead-letters [-- --queue <name>]            list the dead letters, newest first
// npm run jobs:dead-letters -- --redrive <id>              re-send one to the queue it failed on
// npm run jobs:dead-letters -- --redrive-all --queue <q>   re-send every dead letter of queue q
// Handlers are idempotent, so a redriven job that already half-ran is safe. A dead letter that is
// no longer there (already redriven) says `unchanged`.
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { createQueues, DEAD_LETTER_QUEUE } from '../jobs/catalog.ts';
import { listDeadLetters, redriveDeadLetter, redriveQueue } from '../src/operations/dead-letters.ts';
import { attachBoss, startRuntime } from '../src/platform/runtime.ts';

const { values } = parseArgs({
  options: {
    redrive: { type: 'string' },
    'redrive-all': { type: 'boolean', default: false },
    queue: { type: 'string' },
    limit: { type: 'string', default: '100' },
  },
});
if (values['redrive-all'] && !values.queue) {
  console.error('--redrive-all needs --queue <name>');
  process.exit(2);
}
if (values.redrive && values['redrive-all']) {
  console.error('use either --redrive <id> or --redrive-all --queue <name>');
  process.exit(2);
}
const limit = Number.parseInt(values.limit, 10);
if (!(limit > 0)) {
  console.error('--limit must be a positive number');
  process.exit(2);
}

const runtime = await startRuntime({ logFile: '.data/dead-letters.log' });
try {
  const boss = await attachBoss(runtime, { worker: false });
  await createQueues(boss);
  if (values.redrive) {
    const outcome = await redriveDeadLetter(boss, values.redrive);
    console.log(outcome.status === 'redriven' ? `redriven ${values.redrive}` : `unchanged: no dead letter ${values.redrive} in ${DEAD_LETTER_QUEUE} (already redriven?)`);
  } else if (values['redrive-all']) {
    const outcome = await redriveQueue(boss, values.queue!);
    console.log(outcome.status === 'redriven' ? `redriven ${outcome.count} dead letter(s) of ${values.queue}` : `unchanged: no dead letters of ${values.queue}`);
  } else {
    const { data, total } = await listDeadLetters(boss, { queue: values.queue, limit });
    if (total === 0) console.log('no dead letters');
    else {
      const table = new Table({ head: ['id', 'queue', 'dead-lettered at', 'retries', 'data', 'error'] });
      for (const d of data) {
        const error = d.error && typeof d.error === 'object' && 'message' in d.error ? String(d.error.message) : JSON.stringify(d.error);
        table.push([d.id, d.queue ?? '?', d.dead_lettered_at, d.retries ?? '', JSON.stringify(d.data).slice(0, 60), (error ?? '').slice(0, 80)]);
      }
      console.log(table.toString());
      if (total > data.length) console.log(`${data.length} of ${total} shown (--limit)`);
    }
  }
  await runtime.shutdown(0);
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  await runtime.shutdown(1);
}
