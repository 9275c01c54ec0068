// Stand-ins for the two remote services of the cost side, as real HTTP servers on 127.0.0.1:
// the cloud provider (DigitalOcean's billing API shape, paginated, with injectable faults) and
// the finance service (verifies the service JWT, dedups vendor bills like the real one).
import { jwtVerify } from 'jose';
import type { ServerResponse } from 'node:http';
import { createProviderClient, type ProviderClient, type ProviderClientOptions } from '../../src/costs/provider-client.ts';
import { sendJson, startTestServer, type RecordedRequest, type TestServer } from './http-test-server.ts';

export const PROVIDER_TOKEN = 'dop_v1_test_token_0123456789abcdef';
export const FINANCE_SECRET = 'finance-test-secret-0123456789abcdef-0123456789';
export const IMPORT_PATH = '/api/v1/integrations/cloud/import-invoice';

export interface HistoryEntry {
  description: string;
  amount: string;
  invoice_id?: string;
  invoice_uuid?: string;
  date: string;
  type: string;
}

export interface Fault {
  /** Path prefix (with query) the fault applies to. */
  path: string;
  status: number;
  headers?: Record<string, string>;
  /** How many matching requests fail; default 1. */
  times?: number;
}

export interface FakeProvider {
  readonly url: string;
  readonly requests: RecordedRequest[];
  history: HistoryEntry[];
  /** uuid → billing period YYYY-MM (and invoice id), for the summary endpoint. */
  summaries: Map<string, { billing_period: string; invoice_id: string; amount: string }>;
  csvs: Map<string, string>;
  droplets: { id: number; name: string; size_slug: string; created_at: string }[];
  volumes: { id: string; name: string; size_gigabytes: number; created_at: string }[];
  balance: { month_to_date_balance: string; account_balance: string; month_to_date_usage: string; generated_at: string };
  perPage: number;
  faults: Fault[];
  /** A client on this server: fast retries, waits recorded in `sleeps` instead of slept. */
  client(overrides?: Partial<ProviderClientOptions>): ProviderClient;
  sleeps: number[];
  close(): Promise<void>;
}

/** The fixed clock the provider clients of the tests run on (epoch ms). */
export const CLIENT_NOW = 1_750_000_000_000;

export async function startFakeProvider(): Promise<FakeProvider> {
  const server: TestServer = await startTestServer();
  const clients: ProviderClient[] = [];
  const fake: FakeProvider = {
    url: server.url,
    requests: server.requests,
    history: [],
    summaries: new Map(),
    csvs: new Map(),
    droplets: [],
    volumes: [],
    balance: { month_to_date_balance: '23.44', account_balance: '12.23', month_to_date_usage: '11.21', generated_at: '2024-07-09T15:01:12Z' },
    perPage: 2,
    faults: [],
    sleeps: [],
    client(overrides = {}) {
      const client = createProviderClient({
        baseUrl: server.url,
        token: PROVIDER_TOKEN,
        perPage: fake.perPage,
        maxRetries: 3,
        baseDelayMs: 1,
        maxDelayMs: 10_000,
        now: () => CLIENT_NOW,
        sleep: async (ms) => void fake.sleeps.push(ms),
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    },
  };

  const page = <T>(res: ServerResponse, url: URL, key: string, items: T[]) => {
    const perPage = Number(url.searchParams.get('per_page') ?? '20');
    const n = Number(url.searchParams.get('page') ?? '1');
    const slice = items.slice((n - 1) * perPage, n * perPage);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    // The provider's links are absolute URLs on its own host; the client uses only path + query.
    const link = (p: number) => `https://api.digitalocean.com${url.pathname}?page=${p}&per_page=${perPage}`;
    sendJson(res, 200, { [key]: slice, links: { pages: n < last ? { next: link(n + 1), last: link(last) } : {} }, meta: { total: items.length } });
  };

  server.handle((req, res) => {
    if (req.headers.authorization !== `Bearer ${PROVIDER_TOKEN}`) return sendJson(res, 401, { id: 'unauthorized', message: 'Unable to authenticate you.' });
    const fault = fake.faults.find((f) => req.url.startsWith(f.path) && (f.times ?? 1) > 0);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      return sendJson(res, fault.status, { id: 'fault', message: `injected ${fault.status}` }, fault.headers ?? {});
    }
    const url = new URL(req.url, 'http://provider');
    const invoice = /^\/v2\/customers\/my\/invoices\/([^/]+)\/(summary|csv)$/.exec(url.pathname);
    if (url.pathname === '/v2/customers/my/balance') return sendJson(res, 200, fake.balance);
    if (url.pathname === '/v2/customers/my/billing_history') return page(res, url, 'billing_history', fake.history);
    if (url.pathname === '/v2/droplets') return page(res, url, 'droplets', fake.droplets);
    if (url.pathname === '/v2/volumes') return page(res, url, 'volumes', fake.volumes);
    if (invoice) {
      const uuid = decodeURIComponent(invoice[1]!);
      if (invoice[2] === 'summary') {
        const s = fake.summaries.get(uuid);
        if (!s) return sendJson(res, 404, { id: 'not_found', message: 'no such invoice' });
        return sendJson(res, 200, { invoice_uuid: uuid, ...s, user_name: 'Sammy' });
      }
      const csv = fake.csvs.get(uuid);
      if (csv === undefined) return sendJson(res, 404, { id: 'not_found', message: 'no such invoice' });
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      res.end(csv);
      return;
    }
    sendJson(res, 404, { id: 'not_found', message: req.url });
  });
  return fake;
}

/** Adds an invoice to the fake's history, summary and CSV. */
export function addInvoice(
  fake: FakeProvider,
  o: { uuid: string; invoiceId: string; period: string; amount: string; csv?: string; date?: string; description?: string },
): void {
  fake.history.push({
    description: o.description ?? `Invoice for ${o.period}`,
    amount: o.amount,
    invoice_id: o.invoiceId,
    invoice_uuid: o.uuid,
    date: o.date ?? `${nextMonth(o.period)}-01T08:44:38Z`,
    type: 'Invoice',
  });
  fake.summaries.set(o.uuid, { billing_period: o.period, invoice_id: o.invoiceId, amount: o.amount });
  if (o.csv !== undefined) fake.csvs.set(o.uuid, o.csv);
}

function nextMonth(period: string): string {
  const [y, m] = period.split('-').map((x) => Number.parseInt(x, 10)) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

export const CSV_HEADER = 'product,group_description,description,hours,start,end,USD,project_name,category';

/** A CSV line for `period` (YYYY-MM). */
export function csvRow(o: { product?: string; description: string; usd: string; hours?: string; period?: string; project?: string; category?: string }): string {
  const period = o.period ?? '2024-05';
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return [
    o.product ?? 'Droplets',
    '',
    quote(o.description),
    quote(o.hours ?? '744'),
    `${period}-01 00:00:00 +0000`,
    `${nextMonth(period)}-01 00:00:00 +0000`,
    quote(o.usd),
    quote(o.project ?? 'Default'),
    o.category ?? 'iaas',
  ].join(',');
}

export function csvOf(rows: string[]): string {
  return `${[CSV_HEADER, ...rows].join('\n')}\n`;
}

// ---------------------------------------------------------------- finance

export interface FakeFinance {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Bodies of the imports finance accepted, in order. */
  readonly accepted: { action: 'created' | 'updated'; invoice_id: string; body: Record<string, unknown> }[];
  /** The next `n` requests answer `status` (503: finance down). */
  failNext(n: number, status?: number, body?: unknown): void;
  close(): Promise<void>;
}

export async function startFakeFinance(): Promise<FakeFinance> {
  const server = await startTestServer();
  const imported = new Map<string, string>();
  const accepted: FakeFinance['accepted'] = [];
  let failures: { left: number; status: number; body: unknown } = { left: 0, status: 503, body: null };
  server.handle(async (req, res) => {
    if (failures.left > 0) {
      failures.left--;
      return sendJson(res, failures.status, failures.body ?? { error: 'maintenance' });
    }
    if (req.method !== 'POST' || req.url !== IMPORT_PATH) return sendJson(res, 404, { error: 'not_found' });
    const claims = await verifyServiceToken(req);
    if (!claims) return sendJson(res, 401, { error: 'invalid_token' });
    const body = JSON.parse(req.body) as Record<string, unknown>;
    const key = `${claims.tenant_id}|${String(body.source)}|${String(body.external_id)}`;
    const existing = imported.get(key);
    const id = existing ?? `fin-${imported.size + 1}`;
    imported.set(key, id);
    const action = existing ? 'updated' : 'created';
    accepted.push({ action, invoice_id: id, body });
    sendJson(res, existing ? 200 : 201, { action, invoice_id: id });
  });
  return {
    url: server.url,
    requests: server.requests,
    accepted,
    failNext(n, status = 503, body = null) {
      failures = { left: n, status, body };
    },
    close: () => server.close(),
  };
}

export async function verifyServiceToken(req: RecordedRequest): Promise<{ tenant_id: string } | null> {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return null;
  try {
    const { payload } = await jwtVerify<{ tenant_id: string; roles: string[] }>(token, new TextEncoder().encode(FINANCE_SECRET), {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    if (payload.sub !== 'tenant-invoicing' || payload.tenant_id !== 'platform-admin' || !payload.roles.includes('admin')) return null;
    return { tenant_id: payload.tenant_id };
  } catch {
    return null;
  }
}
