// Pushes documents to the finance service. The receiver dedups on
// (tenant_id, source, external_id), so re-sending the same bill is safe: the
// caller (a pg-boss job) retries by re-running, this module never retries.
import { Agent, type Dispatcher } from 'undici';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { microsToCentsHalfAwayFromZero, type CostKind } from './invoice-csv.ts';

export interface FinanceClientOptions {
  /** FINANCE_URL, e.g. `https://finance.internal` (a path prefix is kept). */
  financeUrl: string;
  /** FINANCE_JWT_SECRET, shared with the finance service (HS256). */
  jwtSecret: string;
  /** Defaults to an Agent shared by every call of this module. */
  dispatcher?: Dispatcher;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

/** The finance service cannot be reached or failed (5xx, timeout...): try the whole push again later. */
export class FinanceUnavailableError extends Error {
  override readonly name = 'FinanceUnavailableError';
  /** Null when no HTTP response was received. */
  readonly status: number | null;
  /** Method and path, e.g. `POST /api/v1/integrations/cloud/import-invoice`. */
  readonly endpoint: string;
  /** Start of the response body, when there was one. */
  readonly body: unknown;
  constructor(message: string, init: { status: number | null; endpoint: string; body?: unknown; cause?: unknown }) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.endpoint = init.endpoint;
    this.body = init.body;
  }
}

/** The finance service answered 2xx with a body we do not understand: a contract mismatch, not a transient failure. */
export class FinanceProtocolError extends Error {
  override readonly name = 'FinanceProtocolError';
  readonly status: number;
  readonly endpoint: string;
  readonly body: unknown;
  constructor(message: string, init: { status: number; endpoint: string; body: unknown }) {
    super(message);
    this.status = init.status;
    this.endpoint = init.endpoint;
    this.body = init.body;
  }
}

// ---------------------------------------------------------------- transport

const TOKEN_LIFETIME = '5m';
const MAX_ERROR_BODY_CHARS = 4_000;

let sharedAgent: Agent | undefined;
function financeAgent(): Agent {
  // Shared across pushes so a month close reuses connections.
  sharedAgent ??= new Agent({ connectTimeout: 10_000, headersTimeout: 30_000, bodyTimeout: 30_000, keepAliveTimeout: 10_000 });
  return sharedAgent;
}

/** Closes the module's shared connection pool (process shutdown, tests). */
export async function closeFinanceAgent(): Promise<void> {
  const agent = sharedAgent;
  sharedAgent = undefined;
  await agent?.close();
}

/** A short-lived service token: this service acts as the platform admin in finance. */
async function serviceToken(secret: string): Promise<string> {
  if (secret.length < 32) throw new RangeError('the finance JWT secret must be at least 32 characters');
  return new SignJWT({ tenant_id: 'platform-admin', roles: ['admin'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('tenant-invoicing')
    .setIssuedAt()
    .setExpirationTime(TOKEN_LIFETIME)
    .sign(new TextEncoder().encode(secret));
}

export interface FinanceResponse {
  /** 2xx or 4xx: anything else throws FinanceUnavailableError. */
  readonly status: number;
  /** Parsed JSON, or the text when the body is not JSON, or null when empty. */
  readonly body: unknown;
}

/**
 * POSTs a JSON document to the finance service. Returns 2xx and 4xx answers;
 * throws FinanceUnavailableError on network errors, timeouts, 5xx and the
 * "come back later" 4xx (408, 429).
 */
export async function postToFinance(options: FinanceClientOptions, path: string, document: unknown, extraHeaders: Record<string, string> = {}): Promise<FinanceResponse> {
  const url = new URL(options.financeUrl);
  const fullPath = `${url.pathname.replace(/\/+$/, '')}${path}`;
  const endpoint = `POST ${fullPath}`;
  const payload = JSON.stringify(document);
  // Signed outside the try below: a bad secret is a configuration error, not an outage.
  const token = await serviceToken(options.jwtSecret);

  let statusCode: number;
  let text: string;
  try {
    const response = await (options.dispatcher ?? financeAgent()).request({
      origin: url.origin,
      path: fullPath,
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
        ...extraHeaders,
      },
      body: payload,
      headersTimeout: options.headersTimeoutMs ?? 30_000,
      bodyTimeout: options.bodyTimeoutMs ?? 30_000,
    });
    statusCode = response.statusCode;
    text = await response.body.text();
  } catch (err) {
    // The request may or may not have reached finance; re-sending is safe (dedup).
    const reason = err instanceof Error ? err.message : String(err);
    throw new FinanceUnavailableError(`${endpoint}: finance unreachable: ${reason}`, { status: null, endpoint, cause: err });
  }

  const body = parseBody(text);
  if (statusCode >= 500 || statusCode === 408 || statusCode === 429) {
    throw new FinanceUnavailableError(`${endpoint}: finance answered HTTP ${statusCode}`, {
      status: statusCode,
      endpoint,
      body: truncate(body),
    });
  }
  if (statusCode < 200 || (statusCode >= 300 && statusCode < 400)) {
    // Redirects are not followed: a POST must not be replayed elsewhere silently.
    throw new FinanceProtocolError(`${endpoint}: unexpected HTTP ${statusCode}`, { status: statusCode, endpoint, body: truncate(body) });
  }
  return { status: statusCode, body: statusCode >= 400 ? truncate(body) : body };
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function truncate(body: unknown): unknown {
  return typeof body === 'string' && body.length > MAX_ERROR_BODY_CHARS ? `${body.slice(0, MAX_ERROR_BODY_CHARS)}…` : body;
}

/** Finance takes minor units as JSON integers: refuse any that a JSON number cannot carry exactly. */
export function minorUnits(amount: bigint, field: string): number {
  if (amount > BigInt(Number.MAX_SAFE_INTEGER) || amount < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${field} ${amount} is too large to send as a JSON integer`);
  }
  return Number(amount); // exact: checked to be a safe integer above
}

// ---------------------------------------------------------------- vendor bills

export const IMPORT_VENDOR_INVOICE_PATH = '/api/v1/integrations/cloud/import-invoice';

export interface VendorBillLine {
  readonly description: string;
  readonly product: string;
  /** Cents, already rounded. */
  readonly amountMinor: bigint;
  readonly kind: CostKind;
}

/** What we owe the provider for one of its invoices, in USD cents. */
export interface VendorBill {
  /** The provider's invoice uuid: finance dedups on it. */
  readonly externalId: string;
  /** The provider's human invoice number. */
  readonly invoiceNumber: string;
  /** `YYYY-MM` */
  readonly period: string;
  readonly issuedAt: Date;
  readonly amountGrossMinor: bigint;
  readonly amountNetMinor: bigint;
  readonly amountTaxMinor: bigint;
  readonly lines: readonly VendorBillLine[];
}

export type PushResult =
  | { readonly outcome: 'pushed'; readonly action: 'created' | 'updated'; readonly financeInvoiceId: string }
  | { readonly outcome: 'rejected'; readonly status: number; readonly body: unknown };

export const importAnswerSchema = z.object({
  action: z.enum(['created', 'updated']),
  invoice_id: z.union([z.string().min(1), z.number().int()]).transform(String),
});

/**
 * Sends a vendor bill to finance. 4xx (other than 408/429) → `rejected` with
 * the body, to be recorded and not retried. Throws FinanceUnavailableError for
 * anything transient: the job retries the whole push.
 */
export async function pushVendorBill(options: FinanceClientOptions, bill: VendorBill): Promise<PushResult> {
  assertConsistent(bill);
  const document = {
    source: 'digitalocean',
    external_id: bill.externalId,
    invoice_number: bill.invoiceNumber,
    period: bill.period,
    currency: 'USD',
    amount_gross_minor: minorUnits(bill.amountGrossMinor, 'amount_gross_minor'),
    amount_net_minor: minorUnits(bill.amountNetMinor, 'amount_net_minor'),
    amount_tax_minor: minorUnits(bill.amountTaxMinor, 'amount_tax_minor'),
    issued_at: bill.issuedAt.toISOString(),
    lines: bill.lines.map((line, i) => ({
      description: line.description,
      product: line.product,
      amount_minor: minorUnits(line.amountMinor, `lines[${i}].amount_minor`),
      kind: line.kind,
    })),
  };

  const answer = await postToFinance(options, IMPORT_VENDOR_INVOICE_PATH, document);
  if (answer.status >= 400) return { outcome: 'rejected', status: answer.status, body: answer.body };

  const parsed = importAnswerSchema.safeParse(answer.body);
  if (!parsed.success) {
    throw new FinanceProtocolError(`POST ${IMPORT_VENDOR_INVOICE_PATH}: unexpected answer, expected { action, invoice_id }`, {
      status: answer.status,
      endpoint: `POST ${IMPORT_VENDOR_INVOICE_PATH}`,
      body: truncate(answer.body),
    });
  }
  return { outcome: 'pushed', action: parsed.data.action, financeInvoiceId: parsed.data.invoice_id };
}

function assertConsistent(bill: VendorBill): void {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(bill.period)) throw new RangeError(`vendor bill period must be YYYY-MM, got ${bill.period}`);
  if (bill.externalId.trim() === '') throw new RangeError('vendor bill externalId is empty');
  if (Number.isNaN(bill.issuedAt.getTime())) throw new RangeError('vendor bill issuedAt is not a valid date');
  if (bill.amountNetMinor + bill.amountTaxMinor !== bill.amountGrossMinor) {
    throw new RangeError(
      `vendor bill ${bill.externalId}: net ${bill.amountNetMinor} + tax ${bill.amountTaxMinor} != gross ${bill.amountGrossMinor}`,
    );
  }
}

/**
 * Bill totals in cents from exact micro-dollar sums, rounding once: gross and
 * tax are rounded (half away from zero) as they appear on the provider's
 * invoice, and net takes the difference so net + tax = gross always holds.
 */
export function vendorBillTotals(split: { grossMicros: bigint; taxMicros: bigint }): {
  amountGrossMinor: bigint;
  amountNetMinor: bigint;
  amountTaxMinor: bigint;
} {
  const amountGrossMinor = microsToCentsHalfAwayFromZero(split.grossMicros);
  const amountTaxMinor = microsToCentsHalfAwayFromZero(split.taxMicros);
  return { amountGrossMinor, amountNetMinor: amountGrossMinor - amountTaxMinor, amountTaxMinor };
}
