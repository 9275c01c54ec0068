// vendor-bill-push: one ingested provider invoice (singletonKey = its uuid) to finance. Finance
// down (5xx, network) throws, so the job retries with backoff; a 4xx is recorded and completes.
import type { Job } from 'pg-boss';
import { financeOptionsFromConfig } from '../src/costs/clients.ts';
import { pushVendorBillForInvoice } from '../src/costs/push-vendor-bill.ts';
import { invoiceJobPayload } from './invoice-ingest.ts';
import type { JobDeps } from './worker.ts';

export async function handleVendorBillPush(deps: JobDeps, job: Pick<Job<unknown>, 'data'>) {
  const { invoiceUuid } = invoiceJobPayload.parse(job.data ?? {});
  return pushVendorBillForInvoice({ prisma: deps.prisma, finance: financeOptionsFromConfig(deps.config), now: deps.now(), logger: deps.logger }, { invoiceUuid });
}
