// The finance service's revenue import, standing in on 127.0.0.1: verifies the service JWT,
// dedups on (tenant_id, source, external_id) like the real one, and can be told to answer 503 for
// a while, to store a document and then drop the connection without answering, or to answer 400.
import type { Socket } from 'node:net';
import { startTestServer, sendJson, type RecordedRequest } from '../costs/http-test-server.ts';
import { verifyServiceToken } from '../costs/fakes.ts';

export const REVENUE_PATH = '/api/v1/integrations/revenue/import-invoice';

export interface FakeRevenueFinance {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** One record per (tenant_id, source, external_id): what finance holds. */
  readonly records: Map<string, { invoice_id: string; body: Record<string, unknown>; versions: number }>;
  /** Every accepted import, in order. */
  readonly accepted: { action: 'created' | 'updated'; idempotencyKey: string | undefined; body: Record<string, unknown> }[];
  failNext(n: number, status?: number, body?: unknown): void;
  /** The next `n` imports are stored, then the connection is dropped before any answer. */
  dropNext(n: number): void;
  close(): Promise<void>;
}

export async function startFakeRevenueFinance(): Promise<FakeRevenueFinance> {
  const server = await startTestServer();
  const records: FakeRevenueFinance['records'] = new Map();
  const accepted: FakeRevenueFinance['accepted'] = [];
  let failures = { left: 0, status: 503, body: null as unknown };
  let drops = 0;
  server.handle(async (req, res) => {
    if (failures.left > 0) {
      failures.left--;
      return sendJson(res, failures.status, failures.body ?? { error: 'maintenance' });
    }
    if (req.method !== 'POST' || req.url !== REVENUE_PATH) return sendJson(res, 404, { error: 'not_found' });
    const claims = await verifyServiceToken(req);
    if (!claims) return sendJson(res, 401, { error: 'invalid_token' });
    const body = JSON.parse(req.body) as Record<string, unknown>;
    const key = `${claims.tenant_id}|${String(body.source)}|${String(body.external_id)}`;
    const existing = records.get(key);
    const invoiceId = existing?.invoice_id ?? `fin-${records.size + 1}`;
    records.set(key, { invoice_id: invoiceId, body, versions: (existing?.versions ?? 0) + 1 });
    const action = existing ? 'updated' : 'created';
    const idempotencyKey = req.headers['idempotency-key'];
    accepted.push({ action, idempotencyKey: Array.isArray(idempotencyKey) ? idempotencyKey[0] : idempotencyKey, body });
    if (drops > 0) {
      drops--;
      (res as unknown as { socket: Socket }).socket.destroy();
      return;
    }
    sendJson(res, existing ? 200 : 201, { action, invoice_id: invoiceId });
  });
  return {
    url: server.url,
    requests: server.requests,
    records,
    accepted,
    failNext(n, status = 503, body = null) {
      failures = { left: n, status, body };
    },
    dropNext(n) {
      drops = n;
    },
    close: () => server.close(),
  };
}
