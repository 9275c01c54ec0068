// GET /metrics: Prometheus text with process, HTTP, LLM-usage, month-close and queue metrics,
// behind METRICS_TOKEN (or a platform_admin JWT), or on METRICS_PORT's own listener.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRun, executeRun } from '../../src/invoicing/month-close-runs.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { startMetricsServer } from '../../src/http/metrics.ts';
import { useTestApp } from '../support/app.ts';
import { seedPilot } from '../support/seed.ts';

const METRICS_TOKEN = 'metrics-token-0123456789';
const withToken = useTestApp({ now: () => new Date('2026-05-02T00:00:00Z'), env: { METRICS_TOKEN } });
const withoutToken = useTestApp();
const onPort = useTestApp({ env: { METRICS_PORT: '9999' } });

/** The value of one sample line, e.g. `http_requests_total{method="GET",route="/healthz",status="200"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function scrape(app: ReturnType<typeof withToken>['app'], authorization?: string) {
  return app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
}

describe('GET /metrics', () => {
  it('refuses without the metrics token and with a wrong one', async () => {
    const { app } = withToken();
    expect((await scrape(app)).statusCode).toBe(401);
    expect((await scrape(app, 'Bearer not-the-token-at-all')).statusCode).toBe(401);
    // A JWT is not the metrics token when one is configured.
    expect((await scrape(app, (await withToken().auth('platform_admin')).authorization)).statusCode).toBe(401);
  });

  it('counts HTTP requests by route pattern and status, LLM events by outcome, month closes, and reports queue sizes', async () => {
    const ctx = withToken();
    const { prisma } = ctx.db;
    const { tenant, deployment } = await seedPilot(prisma, 'metrics');
    const before = (await scrape(ctx.app, `Bearer ${METRICS_TOKEN}`)).body;
    const countBefore = (outcome: string) => sample(before, 'llm_usage_events_total', { outcome }) ?? 0;

    const event = {
      gateway_request_id: `metrics-${Date.now()}`,
      tenant_id: tenant.id,
      deployment_id: deployment.id,
      model: 'gpt-4o',
      provider: 'openai',
      prompt_tokens: 1,
      completion_tokens: 1,
      total_tokens: 2,
      charge: '0.01',
      currency: 'AUD',
      occurred_at: '2026-04-20T10:00:00Z',
    };
    const gateway = await ctx.auth('llm_gateway');
    for (const payload of [event, event, { ...event, charge: '0.02' }]) {
      await ctx.app.inject({ method: 'POST', url: '/api/v1/integrations/llm-usage', headers: gateway, payload });
    }
    await ctx.app.inject({ method: 'GET', url: `/api/v1/invoices/${tenant.id}`, headers: await ctx.auth('finance') });
    const runId = await createRun(prisma, { period: parsePeriod('2026-04'), trigger: 'api', requestedBy: 'test' });
    await executeRun({ prisma, now: new Date() }, runId);

    const res = await scrape(ctx.app, `Bearer ${METRICS_TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0); // default process metrics
    expect(sample(text, 'llm_usage_events_total', { outcome: 'created' })).toBe(countBefore('created') + 1);
    expect(sample(text, 'llm_usage_events_total', { outcome: 'duplicate' })).toBe(countBefore('duplicate') + 1);
    expect(sample(text, 'llm_usage_events_total', { outcome: 'conflict' })).toBe(countBefore('conflict') + 1);
    // The route pattern, not the URL with its id.
    expect(sample(text, 'http_requests_total', { route: '/api/v1/invoices/:id', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/api/v1/integrations/llm-usage', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'month_close_runs_total', { outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'month_close_invoices_total', { result: 'created' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'month_close_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    for (const queue of ['month-close', 'dead-letters', 'vendor-bill-push']) {
      for (const state of ['queued', 'active', 'failed']) expect(sample(text, 'pgboss_queue_jobs', { queue, state })).toBe(0);
    }
    for (const name of ['invoice_issue_total', 'receivable_push_total']) expect(text).toContain(`# TYPE ${name} counter`);
  });

  it('without METRICS_TOKEN, takes a platform_admin JWT and refuses other roles', async () => {
    const ctx = withoutToken();
    expect((await scrape(ctx.app, (await ctx.auth('finance')).authorization)).statusCode).toBe(403);
    expect((await scrape(ctx.app, (await ctx.auth('platform_admin')).authorization)).statusCode).toBe(200);
  });

  it('with METRICS_PORT, is served on its own listener only', async () => {
    const ctx = onPort();
    expect((await scrape(ctx.app, (await ctx.auth('platform_admin')).authorization)).statusCode).toBe(404);
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const server = await startMetricsServer({ host: '127.0.0.1', port, boss: ctx.boss });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('pgboss_queue_jobs{queue="month-close",state="queued"}');
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
