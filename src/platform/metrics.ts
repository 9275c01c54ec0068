// Prometheus metrics (prom-client), one registry per process. Other code increments the counters
// exported here; GET /metrics (src/http/metrics.ts) renders the registry, reading pg-boss queue
// sizes at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PgBoss } from 'pg-boss';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** outcome: created (received and stored), duplicate (replay), conflict (same id, other body), invalid. */
export const llmUsageEvents = new Counter({
  name: 'llm_usage_events_total',
  help: 'LLM usage events received, by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** outcome: completed, completed_with_failures, failed (the run itself threw). */
export const monthCloseRuns = new Counter({
  name: 'month_close_runs_total',
  help: 'Month close runs by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** result: created, skipped, regenerated, unchanged, adjusted, reissued, failed. */
export const monthCloseInvoices = new Counter({
  name: 'month_close_invoices_total',
  help: 'Tenant invoices handled by month closes, by result',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const monthCloseDuration = new Histogram({
  name: 'month_close_duration_seconds',
  help: 'Duration of month close runs',
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
  registers: [registry],
});

/** The invoice lifecycle: outcome issued, unchanged (already issued), failed. */
export const invoiceIssues = new Counter({
  name: 'invoice_issue_total',
  help: 'Invoice issue attempts by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** Receivable deliveries to finance: outcome delivered, unchanged, failed (refused), retry (finance unavailable), skipped. */
export const receivablePushes = new Counter({
  name: 'receivable_push_total',
  help: 'Receivable pushes to finance by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const vendorBillPushes = new Counter({
  name: 'vendor_bill_push_total',
  help: 'Vendor bill pushes to finance by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

const queueJobs = new Gauge({
  name: 'pgboss_queue_jobs',
  help: 'pg-boss jobs per queue and state (as of the last pg-boss monitor pass); the dead-letters queue holds the dead letters',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

/** The registry's text with queue sizes read now; without a boss the queue gauge stays empty. */
export async function renderMetrics(boss?: PgBoss): Promise<string> {
  if (boss) {
    queueJobs.reset();
    for (const q of await boss.getQueues()) {
      queueJobs.set({ queue: q.name, state: 'queued' }, q.queuedCount);
      queueJobs.set({ queue: q.name, state: 'deferred' }, q.deferredCount);
      queueJobs.set({ queue: q.name, state: 'active' }, q.activeCount);
      queueJobs.set({ queue: q.name, state: 'failed' }, q.failedCount);
    }
  }
  return registry.metrics();
}

export const metricsContentType = registry.contentType;
