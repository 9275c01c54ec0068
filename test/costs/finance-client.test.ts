import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import {
  closeFinanceAgent,
  FinanceProtocolError,
  FinanceUnavailableError,
  postToFinance,
  pushVendorBill,
  vendorBillTotals,
  type FinanceClientOptions,
  type VendorBill,
} from '../../src/costs/finance-client.ts';
import { parseInvoiceCsv, splitNetAndTax } from '../../src/costs/invoice-csv.ts';
import { readFileSync } from 'node:fs';
import { startTestServer, sendJson, type RecordedRequest, type TestServer } from './http-test-server.ts';

const SECRET = 'finance-test-secret-0123456789abcdef-0123456789';
const IMPORT_PATH = '/api/v1/integrations/cloud/import-invoice';

let server: TestServer;
let options: FinanceClientOptions;

const bill: VendorBill = {
  externalId: 'uuid-2024-05',
  invoiceNumber: '1001',
  period: '2024-05',
  issuedAt: new Date('2024-06-01T08:44:38Z'),
  amountGrossMinor: 13_782n,
  amountNetMinor: 12_526n,
  amountTaxMinor: 1_256n,
  lines: [
    { description: 'web-1 (s-1vcpu-1gb)', product: 'Droplets', amountMinor: 12_526n, kind: 'droplet' },
    { description: 'GST (10%)', product: 'Taxes', amountMinor: 1_256n, kind: 'tax' },
  ],
};

/** The stand-in finance service: verifies the service JWT like the real one, dedups imports. */
function financeService(): void {
  const imported = new Map<string, string>();
  server.handle(async (req, res) => {
    if (req.method !== 'POST' || req.url !== IMPORT_PATH) return sendJson(res, 404, { error: 'not_found' });
    const claims = await verify(req);
    if (!claims) return sendJson(res, 401, { error: 'invalid_token' });
    const body = JSON.parse(req.body) as { source: string; external_id: string };
    const key = `${claims.tenant_id}|${body.source}|${body.external_id}`;
    const existing = imported.get(key);
    if (existing) return sendJson(res, 200, { action: 'updated', invoice_id: existing });
    const id = `fin-${imported.size + 1}`;
    imported.set(key, id);
    sendJson(res, 201, { action: 'created', invoice_id: id });
  });
}

async function verify(req: RecordedRequest): Promise<{ tenant_id: string } | null> {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return null;
  try {
    const { payload, protectedHeader } = await jwtVerify<{ tenant_id: string; roles: string[] }>(token, new TextEncoder().encode(SECRET), {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    const nowSeconds = Math.floor(Date.now() / 1000);
    // A short-lived token: at most 5 minutes ahead (1 s of slack for the clock tick).
    if (protectedHeader.alg !== 'HS256' || payload.exp! > nowSeconds + 300 + 1 || payload.exp! - payload.iat! > 300) return null;
    if (payload.sub !== 'tenant-invoicing' || payload.tenant_id !== 'platform-admin' || !payload.roles.includes('admin')) return null;
    return { tenant_id: payload.tenant_id };
  } catch {
    return null;
  }
}

beforeAll(async () => {
  server = await startTestServer();
});

beforeEach(() => {
  server.requests.length = 0;
  options = { financeUrl: server.url, jwtSecret: SECRET };
});

afterAll(async () => {
  await closeFinanceAgent();
  await server.close();
});

describe('pushVendorBill', () => {
  it('signs a short-lived HS256 token that finance accepts, and the second push of the same bill updates', async () => {
    financeService();

    await expect(pushVendorBill(options, bill)).resolves.toEqual({ outcome: 'pushed', action: 'created', financeInvoiceId: 'fin-1' });
    await expect(pushVendorBill(options, bill)).resolves.toEqual({ outcome: 'pushed', action: 'updated', financeInvoiceId: 'fin-1' });
    await expect(pushVendorBill(options, { ...bill, externalId: 'uuid-2024-06', period: '2024-06' })).resolves.toMatchObject({
      action: 'created',
      financeInvoiceId: 'fin-2',
    });
    expect(server.requests).toHaveLength(3);
  });

  it('sends the documented body, with minor amounts as JSON integers', async () => {
    financeService();
    await pushVendorBill(options, bill);
    const sent = server.requests[0]!;
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual({
      source: 'digitalocean',
      external_id: 'uuid-2024-05',
      invoice_number: '1001',
      period: '2024-05',
      currency: 'USD',
      amount_gross_minor: 13782,
      amount_net_minor: 12526,
      amount_tax_minor: 1256,
      issued_at: '2024-06-01T08:44:38.000Z',
      lines: [
        { description: 'web-1 (s-1vcpu-1gb)', product: 'Droplets', amount_minor: 12526, kind: 'droplet' },
        { description: 'GST (10%)', product: 'Taxes', amount_minor: 1256, kind: 'tax' },
      ],
    });
  });

  it('is rejected (not thrown) when finance refuses the token', async () => {
    financeService();
    const result = await pushVendorBill({ ...options, jwtSecret: 'another-secret-that-finance-does-not-know-000' }, bill);
    expect(result).toEqual({ outcome: 'rejected', status: 401, body: { error: 'invalid_token' } });
  });

  it('returns rejected with the body on 422, without retrying', async () => {
    const problem = { error: 'validation_failed', details: [{ path: 'period', message: 'period is closed' }] };
    server.handle((_req, res) => sendJson(res, 422, problem));
    await expect(pushVendorBill(options, bill)).resolves.toEqual({ outcome: 'rejected', status: 422, body: problem });
    expect(server.requests).toHaveLength(1);
  });

  it('throws FinanceUnavailableError on 503, without retrying', async () => {
    server.handle((_req, res) => sendJson(res, 503, { error: 'maintenance' }));
    const err = await pushVendorBill(options, bill).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FinanceUnavailableError);
    expect(err).toMatchObject({ status: 503, endpoint: `POST ${IMPORT_PATH}`, body: { error: 'maintenance' } });
    expect(server.requests).toHaveLength(1);
  });

  it('treats 429 as unavailable (come back later), not as a rejection', async () => {
    server.handle((_req, res) => sendJson(res, 429, { error: 'slow_down' }));
    await expect(pushVendorBill(options, bill)).rejects.toBeInstanceOf(FinanceUnavailableError);
  });

  it('throws FinanceUnavailableError when finance cannot be reached', async () => {
    const err = await pushVendorBill({ ...options, financeUrl: `http://127.0.0.1:${await unusedPort()}` }, bill).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FinanceUnavailableError);
    expect((err as FinanceUnavailableError).status).toBeNull();
    expect(String(err)).not.toContain(SECRET);
  });

  it('throws FinanceProtocolError on a 2xx it does not understand', async () => {
    server.handle((_req, res) => sendJson(res, 200, { ok: true }));
    await expect(pushVendorBill(options, bill)).rejects.toBeInstanceOf(FinanceProtocolError);
  });

  it('refuses amounts a JSON number cannot carry exactly, and inconsistent totals, before sending', async () => {
    financeService();
    const huge = 2n ** 53n;
    await expect(pushVendorBill(options, { ...bill, amountGrossMinor: huge, amountNetMinor: huge - 1_256n })).rejects.toThrow(RangeError);
    await expect(pushVendorBill(options, { ...bill, amountNetMinor: 1n })).rejects.toThrow(/net 1 \+ tax 1256 != gross 13782/);
    await expect(pushVendorBill(options, { ...bill, period: '2024-13' })).rejects.toThrow(/YYYY-MM/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses to sign with a secret shorter than 32 characters', async () => {
    await expect(pushVendorBill({ ...options, jwtSecret: 'short' }, bill)).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(0);
  });

  it('keeps a path prefix of FINANCE_URL', async () => {
    server.handle((req, res) => sendJson(res, 200, { action: 'created', invoice_id: req.url }));
    const result = await pushVendorBill({ ...options, financeUrl: `${server.url}/finance/` }, bill);
    expect(result).toMatchObject({ financeInvoiceId: `/finance${IMPORT_PATH}` });
  });
});

describe('postToFinance', () => {
  it('is reusable for other documents (e.g. receivables) on other paths', async () => {
    server.handle((req, res) => sendJson(res, 201, { echoed: JSON.parse(req.body) as unknown, path: req.url }));
    const answer = await postToFinance(options, '/api/v1/integrations/receivables', { external_id: 'tenant-invoice-1' });
    expect(answer).toEqual({ status: 201, body: { echoed: { external_id: 'tenant-invoice-1' }, path: '/api/v1/integrations/receivables' } });
  });
});

describe('vendorBillTotals', () => {
  it('rounds gross and tax once and derives net, so net + tax = gross', () => {
    // $0.005 net + $0.005 tax: rounding each side separately would give 1 + 1 != 1
    expect(vendorBillTotals({ grossMicros: 10_000n, taxMicros: 5_000n })).toEqual({
      amountGrossMinor: 1n,
      amountNetMinor: 0n,
      amountTaxMinor: 1n,
    });
  });

  it('turns a parsed provider invoice into consistent bill totals', () => {
    const lines = parseInvoiceCsv(readFileSync(new URL('./fixtures/invoice-basic.csv', import.meta.url), 'utf8'));
    expect(vendorBillTotals(splitNetAndTax(lines))).toEqual({ amountGrossMinor: 137_782n, amountNetMinor: 125_256n, amountTaxMinor: 12_526n });
  });
});

async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
