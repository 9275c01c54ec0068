import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { inspect } from 'node:util';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  createProviderClient,
  ProviderApiError,
  type BillingHistoryEntry,
  type ProviderClient,
  type ProviderClientOptions,
} from '../../src/costs/provider-client.ts';
import { startTestServer, sendJson, type TestServer } from './http-test-server.ts';

const TOKEN = 'dop_v1_SECRET_TOKEN_4f1c2a9be07d';
const NOW = 1_750_000_000_000; // fixed clock, epoch ms

let server: TestServer;
let client: ProviderClient | undefined;
let sleeps: number[];
let logs: unknown[];

function makeClient(overrides: Partial<ProviderClientOptions> = {}): ProviderClient {
  client = createProviderClient({
    baseUrl: server.url,
    token: TOKEN,
    baseDelayMs: 10,
    maxDelayMs: 10_000,
    maxRetries: 3,
    perPage: 2,
    now: () => NOW,
    random: () => 0.5,
    // Record the waits instead of waiting: tests stay fast and deterministic.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    logger: { warn: ((obj: unknown, msg?: string) => void logs.push({ obj, msg })) as never },
    ...overrides,
  });
  return client;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function captureError(promise: Promise<unknown>): Promise<ProviderApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderApiError);
    return err as ProviderApiError;
  }
  throw new Error('expected the call to fail');
}

function expectNoToken(value: unknown): void {
  const seen = [
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    inspect(value, { depth: null, showHidden: true }),
    value instanceof Error ? `${value.message}\n${value.stack}` : '',
  ].join('\n');
  expect(seen).not.toContain(TOKEN);
}

beforeEach(async () => {
  server = await startTestServer();
  sleeps = [];
  logs = [];
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  await server.close();
});

describe('provider client: billing history', () => {
  it('follows links.pages.next across 3 pages, with the bearer token', async () => {
    const pages: Record<string, { entries: BillingHistoryEntry[]; next?: string }> = {
      '1': {
        entries: [
          { description: 'Invoice for May 2024', amount: '12.34', invoice_id: '1001', invoice_uuid: 'uuid-may', date: '2024-06-01T08:44:38Z', type: 'Invoice' },
          { description: 'Payment (MC 1234)', amount: '-12.34', date: '2024-06-02T08:44:38Z', type: 'Payment' },
        ],
        // The provider's links are full URLs on its own host: only path + query must be used.
        next: 'https://api.digitalocean.com/v2/customers/my/billing_history?page=2&per_page=2',
      },
      '2': {
        entries: [
          { description: 'Invoice for June 2024', amount: '1234.56', invoice_id: '1002', invoice_uuid: 'uuid-june', date: '2024-07-01T08:44:38Z', type: 'Invoice' },
          { description: 'Credit', amount: '-5.00', date: '2024-07-03T00:00:00Z', type: 'Credit' },
        ],
        next: 'https://api.digitalocean.com/v2/customers/my/billing_history?page=3&per_page=2',
      },
      '3': {
        entries: [
          { description: 'Invoice for July 2024', amount: '0.01', invoice_id: '1003', invoice_uuid: 'uuid-july', date: '2024-08-01T08:44:38Z', type: 'Invoice' },
        ],
      },
    };
    server.handle((req, res) => {
      const url = new URL(req.url, 'http://x');
      const page = pages[url.searchParams.get('page') ?? ''];
      if (url.pathname !== '/v2/customers/my/billing_history' || !page) return sendJson(res, 404, { id: 'not_found', message: 'nope' });
      sendJson(res, 200, {
        billing_history: page.entries,
        links: { pages: page.next ? { next: page.next, last: 'https://api.digitalocean.com/v2/customers/my/billing_history?page=3&per_page=2' } : {} },
        meta: { total: 5 },
      });
    });

    const entries = await collect(makeClient().listBillingHistory());

    expect(entries.map((e) => e.description)).toEqual([
      'Invoice for May 2024',
      'Payment (MC 1234)',
      'Invoice for June 2024',
      'Credit',
      'Invoice for July 2024',
    ]);
    expect(entries.filter((e) => e.type === 'Invoice').map((e) => e.invoice_uuid)).toEqual(['uuid-may', 'uuid-june', 'uuid-july']);
    expect(entries[1]!.invoice_uuid).toBeUndefined();
    expect(entries[2]!.amount).toBe('1234.56'); // kept as the provider's decimal string
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v2/customers/my/billing_history?page=1&per_page=2',
      '/v2/customers/my/billing_history?page=2&per_page=2',
      '/v2/customers/my/billing_history?page=3&per_page=2',
    ]);
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('reuses connections across calls (one pool per client)', async () => {
    server.handle((_req, res) =>
      sendJson(res, 200, { month_to_date_balance: '1.00', account_balance: '0.00', month_to_date_usage: '1.00', generated_at: '2024-07-09T15:01:12Z' }),
    );
    const c = makeClient();
    for (let i = 0; i < 8; i++) await c.getBalance();
    expect(server.requests).toHaveLength(8);
    // undici may open a second socket while the first is being released; never one per request.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('rejects an Invoice entry without invoice_uuid as an unexpected shape', async () => {
    server.handle((_req, res) =>
      sendJson(res, 200, {
        billing_history: [{ description: 'Invoice', amount: '1.00', invoice_id: '1', date: '2024-06-01T00:00:00Z', type: 'Invoice' }],
        links: {},
        meta: { total: 1 },
      }),
    );
    const err = await captureError(collect(makeClient().listBillingHistory()));
    expect(err.failure).toBe('invalid_response');
    expect(err.message).toContain('billing_history.0.invoice_uuid');
  });

  it('stops when a next link points back to a page already read', async () => {
    server.handle((_req, res) =>
      sendJson(res, 200, {
        billing_history: [],
        links: { pages: { next: 'https://api.digitalocean.com/v2/customers/my/billing_history?page=1&per_page=2' } },
        meta: { total: 0 },
      }),
    );
    const err = await captureError(collect(makeClient().listBillingHistory()));
    expect(err.message).toContain('pagination loops');
  });
});

describe('provider client: retries', () => {
  it('waits until ratelimit-reset (epoch seconds) after a 429, then succeeds', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls++;
      if (calls === 1) {
        return sendJson(res, 429, { id: 'too_many_requests', message: 'API Rate limit exceeded.' }, {
          'ratelimit-limit': '5000',
          'ratelimit-remaining': '0',
          'ratelimit-reset': String(NOW / 1000 + 2),
        });
      }
      sendJson(res, 200, { month_to_date_balance: '23.44', account_balance: '12.23', month_to_date_usage: '11.21', generated_at: '2024-07-09T15:01:12Z' });
    });

    const balance = await makeClient().getBalance();

    expect(balance).toEqual({ month_to_date_balance: '23.44', account_balance: '12.23', month_to_date_usage: '11.21', generated_at: '2024-07-09T15:01:12Z' });
    expect(calls).toBe(2);
    expect(sleeps).toEqual([2000]);
  });

  it('caps the provider-requested wait at maxDelayMs', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls++;
      if (calls === 1) return sendJson(res, 429, { id: 'too_many_requests', message: 'slow down' }, { 'ratelimit-reset': String(NOW / 1000 + 3600) });
      sendJson(res, 200, { month_to_date_balance: '1.00', account_balance: '0.00', month_to_date_usage: '1.00', generated_at: '2024-07-09T15:01:12Z' });
    });
    await makeClient({ maxDelayMs: 250 }).getBalance();
    expect(sleeps).toEqual([250]);
  });

  it('falls back to backoff when ratelimit-reset is already past (clock skew)', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls++;
      if (calls === 1) return sendJson(res, 429, { id: 'too_many_requests', message: 'slow down' }, { 'ratelimit-reset': String(NOW / 1000 - 30) });
      sendJson(res, 200, { month_to_date_balance: '1.00', account_balance: '0.00', month_to_date_usage: '1.00', generated_at: '2024-07-09T15:01:12Z' });
    });
    await makeClient().getBalance();
    expect(sleeps).toEqual([5]);
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls++;
      if (calls === 1) return sendJson(res, 503, { id: 'service_unavailable', message: 'later' }, { 'retry-after': '3' });
      if (calls === 2) return sendJson(res, 429, { id: 'too_many_requests', message: 'later' }, { 'retry-after': new Date(NOW + 7000).toUTCString() });
      sendJson(res, 200, { month_to_date_balance: '1.00', account_balance: '0.00', month_to_date_usage: '1.00', generated_at: '2024-07-09T15:01:12Z' });
    });
    await makeClient().getBalance();
    expect(sleeps).toEqual([3000, 7000]);
  });

  it('retries a 500 with jittered exponential backoff, then succeeds', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls++;
      if (calls <= 2) return sendJson(res, 500, { id: 'server_error', message: 'boom' });
      sendJson(res, 200, { invoice_uuid: 'uuid-may', invoice_id: 1001, billing_period: '2024-05', amount: '12.34', user_name: 'Sammy' });
    });

    const summary = await makeClient().getInvoiceSummary('uuid-may');

    expect(summary).toMatchObject({ invoice_uuid: 'uuid-may', invoice_id: '1001', billing_period: '2024-05', amount: '12.34', user_name: 'Sammy' });
    expect(calls).toBe(3);
    // full jitter: random() * min(maxDelay, base * 2^retry) with random() = 0.5 and base 10 ms
    expect(sleeps).toEqual([5, 10]);
    expect(logs).toHaveLength(2);
    expectNoToken(logs);
  });

  it('really waits with the default sleep (small delays)', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls++;
      if (calls === 1) return sendJson(res, 502, { id: 'bad_gateway', message: 'proxy' });
      sendJson(res, 200, { month_to_date_balance: '1.00', account_balance: '0.00', month_to_date_usage: '1.00', generated_at: '2024-07-09T15:01:12Z' });
    });
    client = createProviderClient({ baseUrl: server.url, token: TOKEN, baseDelayMs: 5, maxDelayMs: 20 });
    await expect(client.getBalance()).resolves.toMatchObject({ month_to_date_usage: '1.00' });
    expect(calls).toBe(2);
  });

  it('gives up after maxRetries and reports the last status', async () => {
    server.handle((_req, res) => sendJson(res, 500, { id: 'server_error', message: 'still broken' }));
    const err = await captureError(makeClient({ maxRetries: 2 }).getBalance());
    expect(server.requests).toHaveLength(3);
    expect(err.status).toBe(500);
    expect(err.attempts).toBe(3);
    expect(err.providerMessage).toBe('still broken');
  });

  it('does not retry a 404; the error carries status, endpoint, id and message but never the token', async () => {
    server.handle((req, res) =>
      // A hostile or careless provider echoing the credential back must not leak it.
      sendJson(res, 404, { id: 'not_found', message: `The resource you requested could not be found (auth: ${req.headers.authorization}).` }),
    );

    const err = await captureError(makeClient().getInvoiceSummary('missing-uuid'));

    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(err.status).toBe(404);
    expect(err.failure).toBe('http');
    expect(err.endpoint).toBe('GET /v2/customers/my/invoices/missing-uuid/summary');
    expect(err.providerErrorId).toBe('not_found');
    expect(err.providerMessage).toContain('could not be found');
    expect(err.providerMessage).toContain('[redacted]');
    expect(err.message).toContain('404');
    expectNoToken(err);
  });

  it('does not retry a 401 either', async () => {
    server.handle((_req, res) => sendJson(res, 401, { id: 'unauthorized', message: 'Unable to authenticate you.' }));
    const err = await captureError(makeClient().getBalance());
    expect(server.requests).toHaveLength(1);
    expect(err).toMatchObject({ status: 401, providerErrorId: 'unauthorized', endpoint: 'GET /v2/customers/my/balance' });
    expectNoToken(err);
  });

  it('retries a connection dropped mid-response', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"month_to_date');
        res.socket?.destroy();
        return;
      }
      sendJson(res, 200, { month_to_date_balance: '1.00', account_balance: '0.00', month_to_date_usage: '1.00', generated_at: '2024-07-09T15:01:12Z' });
    });
    await expect(makeClient().getBalance()).resolves.toMatchObject({ account_balance: '0.00' });
    expect(calls).toBe(2);
    expect(sleeps).toHaveLength(1);
  });

  it('retries network errors, then fails with a network ProviderApiError free of the token', async () => {
    const closedPort = await unusedPort();
    client = createProviderClient({
      baseUrl: `http://127.0.0.1:${closedPort}`,
      token: TOKEN,
      maxRetries: 2,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0,
    });
    const err = await captureError(client.getBalance());
    expect(err.failure).toBe('network');
    expect(err.status).toBeNull();
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.attempts).toBe(3);
    expect(sleeps).toEqual([0, 0]);
    expectNoToken(err);
  });
});

describe('provider client: other endpoints and validation', () => {
  it('rejects an unexpected shape with a clear error (amount as a JSON number)', async () => {
    server.handle((_req, res) =>
      sendJson(res, 200, { month_to_date_balance: 23.44, account_balance: '12.23', month_to_date_usage: '11.21', generated_at: '2024-07-09T15:01:12Z' }),
    );
    const err = await captureError(makeClient().getBalance());
    expect(err.failure).toBe('invalid_response');
    expect(err.endpoint).toBe('GET /v2/customers/my/balance');
    expect(err.message).toContain('month_to_date_balance');
    expect(server.requests).toHaveLength(1); // a bad shape is not retried
  });

  it('rejects amounts that are not decimals', async () => {
    server.handle((_req, res) =>
      sendJson(res, 200, { month_to_date_balance: '1e3', account_balance: '12.23', month_to_date_usage: '11.21', generated_at: '2024-07-09T15:01:12Z' }),
    );
    const err = await captureError(makeClient().getBalance());
    expect(err.message).toContain('decimal');
  });

  it('fetches an invoice CSV as text and encodes the uuid into the path', async () => {
    const csv = 'product,group_description,description,hours,start,end,USD,project_name,category\nDroplets,,web-1 (s-1vcpu-1gb),744,2024-05-01 00:00:00 +0000,2024-06-01 00:00:00 +0000,$5.00,Default,iaas\n';
    server.handle((req, res) => {
      if (req.url !== '/v2/customers/my/invoices/uuid-may/csv') return sendJson(res, 404, { id: 'not_found', message: req.url });
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      res.end(csv);
    });
    const c = makeClient();
    await expect(c.getInvoiceCsv('uuid-may')).resolves.toBe(csv);
    const err = await captureError(c.getInvoiceCsv('../balance'));
    expect(err.endpoint).toBe('GET /v2/customers/my/invoices/..%2Fbalance/csv');
  });

  it('lists droplets and volumes across pages', async () => {
    server.handle((req, res) => {
      const url = new URL(req.url, 'http://x');
      const page = url.searchParams.get('page');
      if (url.pathname === '/v2/droplets') {
        return page === '1'
          ? sendJson(res, 200, {
              droplets: [{ id: 3164444, name: 'web-1', size_slug: 's-1vcpu-1gb', created_at: '2024-01-01T00:00:00Z', status: 'active' }],
              links: { pages: { next: `${server.url}/v2/droplets?page=2&per_page=2`, last: `${server.url}/v2/droplets?page=2&per_page=2` } },
              meta: { total: 2 },
            })
          : sendJson(res, 200, {
              droplets: [{ id: 3164445, name: 'web-2', size_slug: 's-2vcpu-4gb', created_at: '2024-02-01T00:00:00Z' }],
              links: { pages: { first: `${server.url}/v2/droplets?page=1&per_page=2`, prev: `${server.url}/v2/droplets?page=1&per_page=2` } },
              meta: { total: 2 },
            });
      }
      if (url.pathname === '/v2/volumes') {
        return sendJson(res, 200, {
          volumes: [{ id: '506f78a4-e098-11e5-ad9f-000f53306ae1', name: 'data', size_gigabytes: 100, created_at: '2024-03-01T00:00:00Z' }],
          links: {},
          meta: { total: 1 },
        });
      }
      sendJson(res, 404, { id: 'not_found', message: 'no' });
    });
    const c = makeClient();
    const droplets = await collect(c.listDroplets());
    expect(droplets).toEqual([
      { id: '3164444', name: 'web-1', size_slug: 's-1vcpu-1gb', created_at: '2024-01-01T00:00:00Z' },
      { id: '3164445', name: 'web-2', size_slug: 's-2vcpu-4gb', created_at: '2024-02-01T00:00:00Z' },
    ]);
    const volumes = await collect(c.listVolumes());
    expect(volumes).toEqual([{ id: '506f78a4-e098-11e5-ad9f-000f53306ae1', name: 'data', size_gigabytes: 100, created_at: '2024-03-01T00:00:00Z' }]);
  });

  it('refuses a baseUrl with a path and an empty token', () => {
    expect(() => createProviderClient({ baseUrl: 'https://api.example.com/v2', token: TOKEN })).toThrow(/origin/);
    expect(() => createProviderClient({ baseUrl: 'https://api.example.com', token: ' ' })).toThrow(/token/);
  });
});

async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
