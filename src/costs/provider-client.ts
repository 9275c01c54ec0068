// Read-only client for the cloud provider's billing API (DigitalOcean's public
// API shape). Every call is a GET, so retrying transient failures is safe.
// The API token is a secret: it is only ever put in the Authorization header and
// is scrubbed from anything we throw or log.
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { Logger } from 'pino';

// ---------------------------------------------------------------- response shapes

/** Amounts stay decimal strings (USD): never parsed into floats. */
const decimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string such as "12.34"');
const isoInstant = z.iso.datetime({ offset: true });
/** Some provider ids are numbers in one endpoint and strings in another; we keep strings. */
const idString = z.union([z.string().min(1), z.number().int()]).transform(String);

const paginationLinks = z
  .object({
    pages: z.object({ next: z.string().optional(), last: z.string().optional() }).loose().optional(),
  })
  .loose()
  .optional();
const meta = z.object({ total: z.number().int().nonnegative() }).loose().optional();

const balanceSchema = z.object({
  month_to_date_balance: decimalString,
  account_balance: decimalString,
  month_to_date_usage: decimalString,
  generated_at: isoInstant,
});
export type ProviderBalance = z.infer<typeof balanceSchema>;

const billingHistoryEntrySchema = z
  .object({
    description: z.string(),
    amount: decimalString,
    invoice_id: idString.optional(),
    invoice_uuid: z.string().min(1).optional(),
    date: isoInstant,
    type: z.string().min(1), // Invoice, Payment, Credit, ...
  })
  .refine((entry) => entry.type !== 'Invoice' || entry.invoice_uuid !== undefined, {
    message: 'an Invoice entry must carry invoice_uuid',
    path: ['invoice_uuid'],
  });
export type BillingHistoryEntry = z.infer<typeof billingHistoryEntrySchema>;
const billingHistoryPageSchema = z.object({
  billing_history: z.array(billingHistoryEntrySchema),
  links: paginationLinks,
  meta,
});

const chargeGroup = z
  .object({
    name: z.string().optional(),
    amount: decimalString,
    items: z.array(z.object({ name: z.string().optional(), amount: decimalString }).loose()).optional(),
  })
  .loose();
const invoiceSummarySchema = z
  .object({
    invoice_uuid: z.string().min(1),
    invoice_id: idString,
    billing_period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected YYYY-MM'),
    amount: decimalString,
    product_charges: chargeGroup.optional(),
    overages: chargeGroup.optional(),
    taxes: chargeGroup.optional(),
    credits_and_adjustments: chargeGroup.optional(),
  })
  .loose(); // keep the rest (user_name, addresses...) for whoever needs it
export type InvoiceSummary = z.infer<typeof invoiceSummarySchema>;

const dropletSchema = z.object({
  id: idString,
  name: z.string(),
  size_slug: z.string(),
  created_at: isoInstant,
});
export type ProviderDroplet = z.infer<typeof dropletSchema>;
const dropletsPageSchema = z.object({ droplets: z.array(dropletSchema), links: paginationLinks, meta });

const volumeSchema = z.object({
  id: idString,
  name: z.string(),
  size_gigabytes: z.number().int().nonnegative(),
  created_at: isoInstant,
});
export type ProviderVolume = z.infer<typeof volumeSchema>;
const volumesPageSchema = z.object({ volumes: z.array(volumeSchema), links: paginationLinks, meta });

// ---------------------------------------------------------------- errors

export type ProviderFailure = 'http' | 'network' | 'invalid_response';

export class ProviderApiError extends Error {
  override readonly name = 'ProviderApiError';
  /** HTTP status; null when no response was received (network failure). */
  readonly status: number | null;
  /** Method and path with query, e.g. `GET /v2/customers/my/balance`. Never contains the token. */
  readonly endpoint: string;
  readonly failure: ProviderFailure;
  /** The provider's error body `id` (e.g. `not_found`), when present. */
  readonly providerErrorId: string | undefined;
  /** The provider's error body `message`, when present. */
  readonly providerMessage: string | undefined;
  /** For network failures: the system or undici error code (ECONNREFUSED, UND_ERR_SOCKET...). */
  readonly code: string | undefined;
  /** How many attempts were made before giving up. */
  readonly attempts: number;
  constructor(init: {
    message: string;
    status: number | null;
    endpoint: string;
    failure: ProviderFailure;
    providerErrorId?: string | undefined;
    providerMessage?: string | undefined;
    code?: string | undefined;
    attempts: number;
  }) {
    super(init.message);
    this.status = init.status;
    this.endpoint = init.endpoint;
    this.failure = init.failure;
    this.providerErrorId = init.providerErrorId;
    this.providerMessage = init.providerMessage;
    this.code = init.code;
    this.attempts = init.attempts;
  }
}

// ---------------------------------------------------------------- client

export interface ProviderClientOptions {
  /** Origin of the API, e.g. `https://api.digitalocean.com` (no path). */
  baseUrl: string;
  token: string;
  /** Defaults to an Agent owned (and closed) by this client. */
  dispatcher?: Dispatcher;
  /** Retries after the first attempt. Default 5. */
  maxRetries?: number;
  /** First backoff ceiling; doubles per retry. Default 500 ms. */
  baseDelayMs?: number;
  /** Upper bound for any wait, including the provider's Retry-After / ratelimit-reset. Default 60 s. */
  maxDelayMs?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Page size for paginated lists (the provider caps it at 200). */
  perPage?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Clock in epoch ms, for Retry-After dates and ratelimit-reset. */
  now?: () => number;
  /** In [0, 1), for jitter. */
  random?: () => number;
  logger?: Pick<Logger, 'warn'>;
}

export interface ProviderClient {
  getBalance(): Promise<ProviderBalance>;
  /** Every billing history entry, oldest page first, following `links.pages.next`. */
  listBillingHistory(): AsyncGenerator<BillingHistoryEntry>;
  getInvoiceSummary(invoiceUuid: string): Promise<InvoiceSummary>;
  getInvoiceCsv(invoiceUuid: string): Promise<string>;
  /**
   * The CSV's body handed to `consume` as it arrives (never held whole). Failures before the body
   * are retried as for every call; a connection dropped mid-body is a network ProviderApiError.
   */
  streamInvoiceCsv<T>(invoiceUuid: string, consume: (body: AsyncIterable<Uint8Array>) => Promise<T>): Promise<T>;
  listDroplets(): AsyncGenerator<ProviderDroplet>;
  listVolumes(): AsyncGenerator<ProviderVolume>;
  /** Closes the connection pool if this client created it. */
  close(): Promise<void>;
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const MAX_PAGES = 10_000;

export function createProviderClient(options: ProviderClientOptions): ProviderClient {
  const base = new URL(options.baseUrl);
  if (base.pathname !== '/' || base.search !== '') {
    throw new Error(`provider baseUrl must be an origin without a path, got ${base.origin}${base.pathname}`);
  }
  const origin = base.origin;
  const token = options.token;
  if (token.trim() === '') throw new Error('provider token is empty');

  const maxRetries = options.maxRetries ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  const headersTimeout = options.headersTimeoutMs ?? 30_000;
  const bodyTimeout = options.bodyTimeoutMs ?? 60_000;
  const perPage = options.perPage ?? 200;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const logger = options.logger;

  // One pool per client so consecutive pages and invoices reuse connections.
  const ownAgent =
    options.dispatcher === undefined
      ? new Agent({
          connectTimeout: options.connectTimeoutMs ?? 10_000,
          headersTimeout,
          bodyTimeout,
          keepAliveTimeout: 10_000,
        })
      : undefined;
  const dispatcher: Dispatcher = options.dispatcher ?? ownAgent!;

  const scrub = (text: string): string => text.replaceAll(token, '[redacted]');

  /** The wait before the next attempt: the provider's hint when it gave one, else full-jitter backoff. */
  function retryDelay(retry: number, status: number | null, headers: Dispatcher.ResponseData['headers'] | null): number {
    const hinted = headers ? serverHintMs(status, headers) : undefined;
    // A hint in the past (or clock skew) falls back to backoff rather than hammering the provider.
    if (hinted !== undefined && hinted > 0) return Math.min(maxDelayMs, hinted);
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
    return Math.floor(random() * ceiling);
  }

  function serverHintMs(status: number | null, headers: Dispatcher.ResponseData['headers']): number | undefined {
    const retryAfter = firstHeader(headers['retry-after']);
    if (retryAfter !== undefined) {
      if (/^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim()) * 1000;
      const at = Date.parse(retryAfter);
      if (!Number.isNaN(at)) return at - now();
    }
    // ratelimit-reset (epoch SECONDS) is sent on every response; it only says
    // when to come back if we were actually rate limited.
    const reset = firstHeader(headers['ratelimit-reset']);
    if (status === 429 && reset !== undefined && /^\d+$/.test(reset.trim())) {
      return Number(reset.trim()) * 1000 - now();
    }
    return undefined;
  }

  /**
   * GET with retries; returns the body text of a 2xx response and the attempts it took.
   *
   * Why not undici's retry interceptor (interceptors.retry / RetryHandler, undici 8): its `retry`
   * callback does receive the status and headers, so it could honour ratelimit-reset. But once the
   * response headers have been handed on, a connection dropped mid-body is only retried by resuming
   * with a Range request, and the provider answers 200, not 206: the interceptor then fails with
   * "server does not support the range header". A CSV download cut half-way must be fetched again
   * from the start, so the loop below retries the whole exchange (headers and body) as one attempt.
   */
  async function get(path: string): Promise<{ text: string; attempts: number }> {
    return request(path, { read: async (body, attempts) => ({ text: await body.text(), attempts }) });
  }

  /**
   * GET with retries until a 2xx response, whose body `read` reads into memory (a connection
   * dropped mid-body is retried like any network failure) or `consume` streams (a consumer that
   * has already acted on part of the body cannot start over: a dropped connection becomes a
   * network ProviderApiError and the caller's job retries).
   */
  async function request<T>(
    path: string,
    reader:
      | { read: (body: Dispatcher.ResponseData['body'], attempts: number) => Promise<T> }
      | { consume: (body: AsyncIterable<Uint8Array>) => Promise<T> },
  ): Promise<T> {
    const endpoint = `GET ${path}`;
    for (let attempt = 1; ; attempt++) {
      const retriesLeft = attempt <= maxRetries;
      let statusCode: number;
      let headers: Dispatcher.ResponseData['headers'];
      let text: string;
      let consumerError = false;
      let bodyFailed = false;
      try {
        const response = await dispatcher.request({
          origin,
          path,
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, accept: 'application/json, text/csv' },
          headersTimeout,
          bodyTimeout,
        });
        statusCode = response.statusCode;
        headers = response.headers;
        if (statusCode >= 200 && statusCode < 300) {
          if ('read' in reader) return await reader.read(response.body, attempt);
          const body = response.body;
          // Tells the body's own failure (a dropped connection) from the consumer's (a bad CSV, the database).
          const tracked = async function* (): AsyncGenerator<Uint8Array> {
            try {
              for await (const chunk of body) yield chunk as Uint8Array;
            } catch (err) {
              bodyFailed = true;
              throw err;
            }
          };
          try {
            return await reader.consume(tracked());
          } catch (err) {
            consumerError = !bodyFailed;
            throw err;
          } finally {
            if (!body.destroyed) body.destroy();
          }
        }
        // Read the body inside the try: a connection dropped mid-body is a network failure too.
        text = await response.body.text();
      } catch (err) {
        if (consumerError) throw err;
        const code = errorCode(err);
        const reason = scrub(err instanceof Error ? err.message : String(err));
        if (code !== undefined && RETRYABLE_NETWORK_CODES.has(code) && retriesLeft && !bodyFailed) {
          const delayMs = retryDelay(attempt - 1, null, null);
          logger?.warn({ endpoint, attempt, delayMs, code }, 'provider request failed, retrying');
          await sleep(delayMs);
          continue;
        }
        throw new ProviderApiError({
          message: `${endpoint} failed after ${attempt} attempt(s): ${code ?? 'network error'}: ${reason}`,
          status: null,
          endpoint,
          failure: 'network',
          code,
          attempts: attempt,
        });
      }

      const transient = statusCode === 429 || statusCode >= 500;
      if (transient && retriesLeft) {
        const delayMs = retryDelay(attempt - 1, statusCode, headers);
        logger?.warn({ endpoint, attempt, delayMs, status: statusCode }, 'provider request failed, retrying');
        await sleep(delayMs);
        continue;
      }
      const { id, message } = providerErrorBody(text);
      const providerErrorId = id === undefined ? undefined : scrub(id);
      const providerMessage = message === undefined ? undefined : scrub(message);
      throw new ProviderApiError({
        message:
          `${endpoint} failed with HTTP ${statusCode}` +
          (providerErrorId ? ` ${providerErrorId}` : '') +
          (providerMessage ? `: ${providerMessage}` : '') +
          (attempt > 1 ? ` (after ${attempt} attempts)` : ''),
        status: statusCode,
        endpoint,
        failure: 'http',
        providerErrorId,
        providerMessage,
        attempts: attempt,
      });
    }
  }

  async function getJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const { text, attempts } = await get(path);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw invalidResponse(path, 'the body is not JSON', attempts);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw invalidResponse(path, scrub(problems), attempts);
    }
    return parsed.data;
  }

  function invalidResponse(path: string, problem: string, attempts = 1): ProviderApiError {
    const endpoint = `GET ${path}`;
    return new ProviderApiError({
      message: `${endpoint} returned an unexpected response shape: ${problem}`,
      status: 200,
      endpoint,
      failure: 'invalid_response',
      attempts,
    });
  }

  /** Follows `links.pages.next` until absent, yielding each page's items. */
  async function* paginate<Page, Item>(
    firstPath: string,
    schema: z.ZodType<Page>,
    itemsOf: (page: Page) => Item[],
    nextOf: (page: Page) => string | undefined,
  ): AsyncGenerator<Item> {
    const seen = new Set<string>();
    let path: string | undefined = firstPath;
    while (path !== undefined) {
      if (seen.has(path)) throw invalidResponse(path, 'pagination loops back to a page already read');
      if (seen.size >= MAX_PAGES) throw invalidResponse(path, `more than ${MAX_PAGES} pages`);
      seen.add(path);
      const page: Page = await getJson(path, schema);
      yield* itemsOf(page);
      const next = nextOf(page);
      path = next === undefined ? undefined : nextPath(next, path);
    }
  }

  /**
   * The provider's next link is a full URL. Only its path and query are used,
   * against our own origin, so the token is never sent to another host.
   */
  function nextPath(next: string, current: string): string {
    let url: URL;
    try {
      url = new URL(next, origin);
    } catch {
      throw invalidResponse(current, `links.pages.next is not a URL: ${JSON.stringify(scrub(next))}`);
    }
    return url.pathname + url.search;
  }

  const listPath = (path: string) => `${path}?page=1&per_page=${perPage}`;
  const invoicePath = (uuid: string, suffix: string) => {
    if (uuid.trim() === '') throw new Error('invoice uuid is empty');
    return `/v2/customers/my/invoices/${encodeURIComponent(uuid)}/${suffix}`;
  };

  return {
    getBalance: () => getJson('/v2/customers/my/balance', balanceSchema),
    listBillingHistory: () =>
      paginate(
        listPath('/v2/customers/my/billing_history'),
        billingHistoryPageSchema,
        (p) => p.billing_history,
        (p) => p.links?.pages?.next,
      ),
    getInvoiceSummary: (uuid) => getJson(invoicePath(uuid, 'summary'), invoiceSummarySchema),
    getInvoiceCsv: async (uuid) => (await get(invoicePath(uuid, 'csv'))).text,
    streamInvoiceCsv: (uuid, consume) => request(invoicePath(uuid, 'csv'), { consume }),
    listDroplets: () =>
      paginate(listPath('/v2/droplets'), dropletsPageSchema, (p) => p.droplets, (p) => p.links?.pages?.next),
    listVolumes: () =>
      paginate(listPath('/v2/volumes'), volumesPageSchema, (p) => p.volumes, (p) => p.links?.pages?.next),
    close: async () => {
      await ownAgent?.close();
    },
  };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function errorCode(err: unknown): string | undefined {
  // undici sometimes wraps the system error (e.g. ECONNREFUSED) in `cause`.
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The provider's error body is `{ id, message, request_id }`; anything else is ignored. */
function providerErrorBody(text: string): { id?: string; message?: string } {
  try {
    const body: unknown = JSON.parse(text);
    if (body === null || typeof body !== 'object') return {};
    const { id, message } = body as { id?: unknown; message?: unknown };
    return {
      ...(typeof id === 'string' ? { id } : {}),
      ...(typeof message === 'string' ? { message: message.slice(0, 500) } : {}),
    };
  } catch {
    return {};
  }
}
