// vendor-bill-push: sends an ingested provider invoice to finance as a vendor bill.
//
// - Dedup: the header remembers the CSV checksum finance last accepted (pushed_checksum); the
//   same CSV is never pushed twice. Finance itself dedups on (source, external_id), so a push
//   repeated after a crash updates instead of duplicating.
// - Totals: tax lines (product Taxes, or a product/description naming GST or tax) sum into tax,
//   the rest into net; gross and tax are rounded to cents once and net = gross - tax.
// - Outcomes: 2xx → pushed; 4xx → failed with the body, no retry, and the refused CSV checksum is
//   remembered: that content is not sent again (`unchanged`, refused) until the CSV changes or the
//   caller asks to redeliver (costs:sync --redeliver); 5xx, timeouts and network
//   errors → the error is recorded and rethrown so the job retries with backoff; no FINANCE_URL →
//   skipped (the ingest is not affected).
import type { Logger } from 'pino';
import { periodOf } from '../invoicing/period.ts';
import type { PrismaClient } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { FinanceUnavailableError, pushVendorBill, vendorBillTotals, type FinanceClientOptions, type VendorBill } from './finance-client.ts';
import { microsToCentsHalfAwayFromZero, splitNetAndTax } from './invoice-csv.ts';
import { billLines, findHeader, type BillLineRow, type InvoiceHeaderRow } from './repository.ts';
import { vendorBillPushes } from '../platform/metrics.ts';

export interface PushVendorBillDeps {
  prisma: PrismaClient;
  /** Null when FINANCE_URL is not configured: the push is recorded as skipped. */
  finance: FinanceClientOptions | null;
  now: Date;
  logger?: Logger;
}

export type PushVendorBillOutcome =
  | { invoiceUuid: string; status: 'pushed'; action: 'created' | 'updated'; financeInvoiceId: string }
  | { invoiceUuid: string; status: 'unchanged'; refused?: true }
  | { invoiceUuid: string; status: 'not_ingested' | 'skipped' }
  | { invoiceUuid: string; status: 'failed'; error: string };

const MAX_ERROR_CHARS = 2_000;

export async function pushVendorBillForInvoice(deps: PushVendorBillDeps, input: { invoiceUuid: string; redeliver?: boolean }): Promise<PushVendorBillOutcome> {
  try {
    const outcome = await push(deps, input);
    vendorBillPushes.inc({ outcome: 'refused' in outcome ? 'refused_unchanged' : outcome.status });
    return outcome;
  } catch (error) {
    vendorBillPushes.inc({ outcome: 'retry' });
    throw error;
  }
}

async function push(deps: PushVendorBillDeps, input: { invoiceUuid: string; redeliver?: boolean }): Promise<PushVendorBillOutcome> {
  const { prisma, now } = deps;
  const invoiceUuid = input.invoiceUuid;
  // Header and lines read together (FOR SHARE waits for an ingest replacing them), so the
  // checksum recorded below is the one of the lines sent.
  const source = await prisma.$transaction(async (tx) => {
    const header = await findHeader(tx, invoiceUuid, 'share');
    if (!header) throw new NotFoundError('provider_invoice');
    const due = header.csv_checksum !== null && header.pushed_checksum !== header.csv_checksum && (input.redeliver || header.refused_checksum !== header.csv_checksum);
    return { header, lines: due ? await billLines(tx, header.id) : [] };
  });
  const { header } = source;
  if (header.csv_checksum === null) return { invoiceUuid, status: 'not_ingested' };
  if (header.pushed_checksum === header.csv_checksum) return { invoiceUuid, status: 'unchanged' };
  // Finance refused this very content: sending it again would be refused again.
  if (header.refused_checksum === header.csv_checksum && !input.redeliver) return { invoiceUuid, status: 'unchanged', refused: true };
  const checksum = header.csv_checksum;

  if (!deps.finance) {
    await record(prisma, header.id, { push_status: 'skipped', push_error: 'not pushed: FINANCE_URL is not configured', now });
    deps.logger?.info({ invoiceUuid }, 'vendor bill not pushed: FINANCE_URL is not configured');
    return { invoiceUuid, status: 'skipped' };
  }

  let result;
  try {
    result = await pushVendorBill(deps.finance, vendorBillOf(header, source.lines));
  } catch (error) {
    const message = truncate((error as Error).message);
    if (error instanceof FinanceUnavailableError) {
      // Still pending: the job retries the whole push later.
      await record(prisma, header.id, { push_status: 'pending', push_error: message, now });
      throw error;
    }
    // A contract mismatch or a bill finance could not represent: retrying would not help.
    await record(prisma, header.id, { push_status: 'failed', push_error: message, now, refusedChecksum: checksum });
    deps.logger?.error({ invoiceUuid, err: error }, 'vendor bill push failed');
    return { invoiceUuid, status: 'failed', error: message };
  }

  if (result.outcome === 'rejected') {
    const message = truncate(`finance rejected the bill: HTTP ${result.status} ${JSON.stringify(result.body)}`);
    await record(prisma, header.id, { push_status: 'failed', push_error: message, now, refusedChecksum: checksum });
    deps.logger?.warn({ invoiceUuid, status: result.status }, 'finance rejected the vendor bill');
    return { invoiceUuid, status: 'failed', error: message };
  }

  // If a newer CSV was stored meanwhile, its own push is queued: leave the status pending for it.
  await prisma.$executeRaw`
    UPDATE provider_invoices SET
      push_status = CASE WHEN csv_checksum = ${checksum} THEN 'pushed'::vendor_bill_push_status ELSE 'pending'::vendor_bill_push_status END,
      pushed_to_finance_at = ${now}::timestamptz,
      finance_invoice_id = ${result.financeInvoiceId},
      finance_action = ${result.action},
      pushed_checksum = ${checksum},
      push_error = NULL,
      refused_checksum = NULL,
      updated_at = ${now}::timestamptz
    WHERE id = ${header.id}::uuid`;
  deps.logger?.info({ invoiceUuid, action: result.action, financeInvoiceId: result.financeInvoiceId }, 'vendor bill pushed');
  return { invoiceUuid, status: 'pushed', action: result.action, financeInvoiceId: result.financeInvoiceId };
}

/** The bill finance receives: every line rounded to cents once, totals from the exact sums. */
export function vendorBillOf(header: Pick<InvoiceHeaderRow, 'invoice_uuid' | 'invoice_id' | 'period' | 'date'>, lines: readonly BillLineRow[]): VendorBill {
  const totals = vendorBillTotals(splitNetAndTax(lines.map((l) => ({ product: l.product, description: l.description, amountMicros: l.amount_micros }))));
  return {
    externalId: header.invoice_uuid,
    invoiceNumber: header.invoice_id,
    period: periodOf(header.period).key,
    issuedAt: header.date,
    ...totals,
    lines: lines.map((l) => ({ description: l.description, product: l.product, amountMinor: microsToCentsHalfAwayFromZero(l.amount_micros), kind: l.kind })),
  };
}

async function record(
  prisma: PrismaClient,
  id: string,
  r: { push_status: 'pending' | 'skipped' | 'failed'; push_error: string; now: Date; refusedChecksum?: string },
): Promise<void> {
  await prisma.$executeRaw`
    UPDATE provider_invoices SET push_status = ${r.push_status}::vendor_bill_push_status, push_error = ${r.push_error}, updated_at = ${r.now}::timestamptz,
           refused_checksum = COALESCE(${r.refusedChecksum ?? null}::text, refused_checksum)
     WHERE id = ${id}::uuid`;
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
