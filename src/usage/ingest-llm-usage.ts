// Use case: store LLM usage events priced by the gateway, idempotently on gateway_request_id.
// Each event gets its own outcome (created, duplicate, conflict, invalid); one bad event never
// rejects the others. A request whose events are all new and owned (the gateway's normal case)
// is ONE query: an INSERT ... ON CONFLICT DO NOTHING that keeps only events whose tenant owns the
// deployment and bills in the currency. Whatever did not insert is classified with at most two
// more (the ownership check, the SELECT of stored hashes), and one more in a rare case (see below).
// No transaction is needed: each INSERT is atomic and is the only write.
import type { Db } from '../platform/database.ts';
import type { FieldIssue } from '../platform/errors.ts';
import { parseLlmEvent, type LlmUsageEvent } from './llm-event.ts';
import { findLlmEventsByGatewayIds, findTenantDeployments, insertLlmEvents } from './repository.ts';
import { llmUsageEvents } from '../platform/metrics.ts';

export const MAX_EVENTS_PER_REQUEST = 1000;

export type IngestStatus = 'created' | 'duplicate' | 'conflict' | 'invalid';

export interface IngestEventError {
  /** validation_failed, unknown_tenant, unknown_deployment, currency_mismatch or conflict. */
  code: string;
  message: string;
  /** The first field at fault (all of them are in `issues`). */
  field: string;
  issues: FieldIssue[];
}

export interface IngestEventResult {
  /** Position of the event in the input. */
  index: number;
  /** null when the event has no usable gateway_request_id. */
  gatewayRequestId: string | null;
  status: IngestStatus;
  /** The stored event: the new row (created), or the row already holding this gateway_request_id (duplicate, conflict). */
  id?: string;
  error?: IngestEventError;
}

export interface IngestLlmUsageResult {
  results: IngestEventResult[];
  created: number;
  duplicates: number;
  conflicts: number;
  invalid: number;
}

export interface IngestLlmUsageOptions {
  /** Stored as received_at: month close counts events received after it invoiced their period as late usage. */
  now: Date;
}

function invalid(code: string, issues: FieldIssue[]): IngestEventError {
  const first = issues[0] ?? { field: '(event)', message: 'invalid' };
  const message = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  return { code, message, field: first.field, issues };
}

function rawGatewayRequestId(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const value = (raw as Record<string, unknown>).gateway_request_id;
  return typeof value === 'string' ? value : null;
}

/** Checks, for all events at once, that the tenant exists, owns the deployment and bills in the event's currency. */
async function checkOwnership(db: Db, events: readonly LlmUsageEvent[]): Promise<(IngestEventError | null)[]> {
  const pairs = new Map<string, { tenantId: string; deploymentId: string }>();
  for (const e of events) pairs.set(`${e.tenantId}/${e.deploymentId}`, { tenantId: e.tenantId, deploymentId: e.deploymentId });
  const rows = await findTenantDeployments(db, [...pairs.values()]);
  const known = new Map(rows.map((r) => [`${r.tenant_id}/${r.deployment_id}`, r]));
  return events.map((e) => {
    const row = known.get(`${e.tenantId}/${e.deploymentId}`);
    if (!row || row.billing_currency === null) {
      return invalid('unknown_tenant', [{ field: 'tenant_id', message: `tenant ${e.tenantId} does not exist` }]);
    }
    if (row.deployment_tenant_id !== e.tenantId) {
      const why = row.deployment_tenant_id === null ? 'does not exist' : 'belongs to another tenant';
      return invalid('unknown_deployment', [{ field: 'deployment_id', message: `deployment ${e.deploymentId} ${why}` }]);
    }
    if (row.billing_currency !== e.currency) {
      return invalid('currency_mismatch', [
        { field: 'currency', message: `must be the tenant's billing currency ${row.billing_currency}, not ${e.currency}` },
      ]);
    }
    return null;
  });
}

/**
 * Stores LLM usage events exactly as priced by the gateway. `events` are raw bodies (the wire
 * shape, LlmUsageEventBody); each is validated here. Within one call, the first valid event with a
 * given gateway_request_id wins and later ones are duplicates of it or conflicts with it.
 * Accepts a transaction as `db`; the route, tests, the demo and benchmarks all go through here.
 */
export async function ingestLlmUsage(db: Db, events: readonly unknown[], options: IngestLlmUsageOptions): Promise<IngestLlmUsageResult> {
  const results: IngestEventResult[] = events.map((raw, index) => ({ index, gatewayRequestId: rawGatewayRequestId(raw), status: 'invalid' }));

  const valid: { index: number; event: LlmUsageEvent }[] = [];
  events.forEach((raw, index) => {
    const parsed = parseLlmEvent(raw);
    if (parsed.ok) valid.push({ index, event: parsed.event });
    else results[index]!.error = invalid('validation_failed', parsed.issues);
  });

  // Optimistic: the first valid event per gateway_request_id goes into one INSERT that keeps only
  // owned events. In the normal case (all new, all owned) that is the whole request: one query.
  const sent = new Map<string, LlmUsageEvent>();
  for (const { event } of valid) if (!sent.has(event.gatewayRequestId)) sent.set(event.gatewayRequestId, event);
  const inserted = await insertLlmEvents(db, [...sent.values()], options.now);
  const insertedIds = new Map(inserted.map((r) => [r.gateway_request_id, r.id]));
  const creator = new Map(inserted.map((r) => [r.gateway_request_id, sent.get(r.gateway_request_id)!]));
  const createdBy = new Set<LlmUsageEvent>(creator.values());

  // Every other valid event (later ones with an inserted id, and the ones that did not insert:
  // not owned, or already stored) is checked for ownership in one query, as before the insert.
  const others = valid.filter((v) => !createdBy.has(v.event));
  const ownershipErrors = await checkOwnership(db, others.map((v) => v.event));
  const owned = new Set<LlmUsageEvent>(createdBy);
  others.forEach((v, i) => {
    const error = ownershipErrors[i];
    if (error) results[v.index]!.error = error;
    else owned.add(v.event);
  });
  const accepted = valid.filter((v) => owned.has(v.event));

  // Within the request, the first ACCEPTED event with an id wins. Where the event sent for an id
  // was not owned but a later one is, that one is inserted now (rare: one more query).
  const first = new Map<string, LlmUsageEvent>();
  for (const { event } of accepted) if (!first.has(event.gatewayRequestId)) first.set(event.gatewayRequestId, event);
  const late = [...first.values()].filter((e) => !insertedIds.has(e.gatewayRequestId) && sent.get(e.gatewayRequestId) !== e);
  for (const row of await insertLlmEvents(db, late, options.now)) {
    insertedIds.set(row.gateway_request_id, row.id);
    creator.set(row.gateway_request_id, first.get(row.gateway_request_id)!);
    createdBy.add(first.get(row.gateway_request_id)!);
  }

  // What each gateway_request_id is stored as: the row just inserted, or one that was there before.
  const stored = new Map<string, { id: string; bodyHash: string }>();
  for (const [gatewayRequestId, id] of insertedIds) stored.set(gatewayRequestId, { id, bodyHash: creator.get(gatewayRequestId)!.bodyHash });
  const notInserted = [...first.keys()].filter((g) => !insertedIds.has(g));
  for (const row of await findLlmEventsByGatewayIds(db, notInserted)) stored.set(row.gateway_request_id, { id: row.id, bodyHash: row.body_hash });

  for (const { index, event } of accepted) {
    const result = results[index]!;
    const row = stored.get(event.gatewayRequestId);
    if (!row) throw new Error(`llm usage event ${event.gatewayRequestId} neither inserted nor found`); // rows are never deleted
    result.id = row.id;
    if (createdBy.has(event)) {
      result.status = 'created';
    } else if (row.bodyHash === event.bodyHash) {
      result.status = 'duplicate';
    } else {
      result.status = 'conflict';
      result.error = {
        code: 'conflict',
        message: `gateway_request_id ${JSON.stringify(event.gatewayRequestId)} was already received with a different body; the stored event is unchanged`,
        field: 'gateway_request_id',
        issues: [{ field: 'gateway_request_id', message: 'already received with a different body' }],
      };
    }
  }

  const count = (status: IngestStatus) => results.filter((r) => r.status === status).length;
  for (const status of ['created', 'duplicate', 'conflict', 'invalid'] as const) {
    const n = count(status);
    if (n > 0) llmUsageEvents.inc({ outcome: status }, n);
  }
  return { results, created: count('created'), duplicates: count('duplicate'), conflicts: count('conflict'), invalid: count('invalid') };
}
