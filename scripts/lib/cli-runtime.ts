// What a one-shot CLI needs beyond the runtime: pg-boss without workers or schedules, only to
// queue follow-up jobs (receivable pushes) in the transaction that records them.
import { createQueues } from '../../jobs/catalog.ts';
import { attachBoss, startRuntime, type Runtime, type StartRuntimeOptions } from '../../src/platform/runtime.ts';
import { receivablesSettings, type ReceivablesSettings } from '../../src/receivables/settings.ts';

export async function startCliRuntime(options: StartRuntimeOptions = {}): Promise<Runtime & { receivables: ReceivablesSettings }> {
  const runtime = await startRuntime(options);
  try {
    const boss = await attachBoss(runtime, { worker: false });
    await createQueues(boss);
    return Object.assign(runtime, { receivables: receivablesSettings(runtime.config, boss) });
  } catch (error) {
    await runtime.shutdown();
    throw error;
  }
}
