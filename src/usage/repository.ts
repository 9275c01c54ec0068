// The SQL for LLM usage ingestion. Every query is set-based: arrays go in as single parameters
// and unnest() turns them into rows, so a batch of 1,000 events costs the same round trips as one
// event (one when all are new and owned, at most three). Money stays text until PostgreSQL casts it to numeric. The hot path: queryRows
// sends them straight to the pg pool as prepared statements (their text never changes: parsed and
// planned once per connection), and every result column is text.
//
// Indexes: ownership by tenants_pkey / deployments_pkey; the insert arbitrates on
// llm_usage_events_gateway_request_id_key; classification is an Index Scan using
// llm_usage_events_gateway_request_id_key (gateway_request_id = ANY (...)). EXPLAIN below.
import { Prisma } from '../generated/prisma/client.ts';
import { arrayLiteral, queryRows, type Db } from '../platform/database.ts';
import type { LlmUsageEvent } from './llm-event.ts';

export interface TenantDeploymentRow {
  tenant_id: string;
  deployment_id: string;
  /** null when the tenant does not exist. */
  billing_currency: string | null;
  /** The deployment's real tenant; null when the deployment does not exist. */
  deployment_tenant_id: string | null;
}

/** What the database knows about each (tenant, deployment) pair, in one query. */
export async function findTenantDeployments(db: Db, pairs: readonly { tenantId: string; deploymentId: string }[]): Promise<TenantDeploymentRow[]> {
  if (pairs.length === 0) return [];
  const tenantIds = pairs.map((p) => p.tenantId);
  const deploymentIds = pairs.map((p) => p.deploymentId);
  return queryRows<TenantDeploymentRow>(db, Prisma.sql`
    SELECT p.tenant_id::text AS tenant_id,
           p.deployment_id::text AS deployment_id,
           t.billing_currency::text AS billing_currency,
           d.tenant_id::text AS deployment_tenant_id
    FROM unnest(${tenantIds}::uuid[], ${deploymentIds}::uuid[]) AS p(tenant_id, deployment_id)
    LEFT JOIN tenants t ON t.id = p.tenant_id
    LEFT JOIN deployments d ON d.id = p.deployment_id`, { prepared: true });
}

export interface InsertedRow {
  id: string;
  gateway_request_id: string;
}

/**
 * Inserts, in one statement, the events whose tenant exists, owns their deployment and bills in
 * their currency; a gateway_request_id already stored (or being stored by a concurrent request,
 * which this waits for) is skipped. Returns only the rows this call inserted: an event not
 * returned was either not owned or already stored (findTenantDeployments and
 * findLlmEventsByGatewayIds tell which). The caller passes each gateway_request_id at most once.
 *
 * The ownership join is in the INSERT so that a request whose events are all new and valid (the
 * gateway's normal case) costs one round trip. EXPLAIN ANALYZE of a batch of 500 (bench:intake):
 *   Insert on llm_usage_events  Conflict Arbiter Indexes: llm_usage_events_gateway_request_id_key
 *     -> Sort (e.ord) -> Nested Loop
 *          -> Hash Join (e.deployment_id = d.id AND e.tenant_id = d.tenant_id)
 *               -> Function Scan on e (unnest)   -> Hash -> Seq Scan on deployments d (one row in the bench;
 *                  with many deployments the planner probes deployments_pkey instead)
 *          -> Index Scan using tenants_pkey (id = e.tenant_id), Filter: currency = billing_currency
 *   12.5 ms, of which the two foreign-key checks 4.5 ms. The backend's CPU time per batch of 500
 *   (from /proc, one backend inserting in a loop): ~20 ms with those two checks, ~13-15 ms with the one check of the
 *   (deployment_id, tenant_id) pair that replaced them (20261122100000 migration); ~12.5 ms
 *   without any, so the key costs little now. The rest is the heap and the five indexes.
 */
export async function insertLlmEvents(db: Db, events: readonly LlmUsageEvent[], receivedAt: Date): Promise<InsertedRow[]> {
  if (events.length === 0) return [];
  // Rows are inserted in gateway_request_id order so two overlapping concurrent batches wait on
  // each other's keys in the same order and cannot deadlock.
  const sorted = [...events].sort((a, b) => (a.gatewayRequestId < b.gatewayRequestId ? -1 : a.gatewayRequestId > b.gatewayRequestId ? 1 : 0));
  // Each column as one array literal; only the free-text ones need quoting (the rest are validated
  // uuids, integers, canonical decimals, currency codes, ISO instants and hex hashes).
  const text = (pick: (e: LlmUsageEvent) => string) => arrayLiteral(sorted.map(pick), { quoted: true });
  const plain = (pick: (e: LlmUsageEvent) => string | number) => arrayLiteral(sorted.map(pick), { quoted: false });
  return queryRows<InsertedRow>(db, Prisma.sql`
    INSERT INTO llm_usage_events
      (gateway_request_id, tenant_id, deployment_id, model, provider,
       prompt_tokens, completion_tokens, total_tokens, charge, currency,
       occurred_at, received_at, body_hash)
    SELECT e.gateway_request_id, e.tenant_id, e.deployment_id, e.model, e.provider,
           e.prompt_tokens, e.completion_tokens, e.total_tokens, e.charge::numeric, e.currency,
           e.occurred_at, ${receivedAt}::timestamptz, e.body_hash
    FROM unnest(
      ${text((e) => e.gatewayRequestId)}::text[],
      ${plain((e) => e.tenantId)}::uuid[],
      ${plain((e) => e.deploymentId)}::uuid[],
      ${text((e) => e.model)}::text[],
      ${text((e) => e.provider)}::text[],
      ${plain((e) => e.promptTokens)}::bigint[],
      ${plain((e) => e.completionTokens)}::bigint[],
      ${plain((e) => e.totalTokens)}::bigint[],
      ${plain((e) => e.charge)}::text[],
      ${plain((e) => e.currency)}::text[],
      ${plain((e) => e.occurredAt)}::timestamptz[],
      ${plain((e) => e.bodyHash)}::text[]
    ) WITH ORDINALITY AS e(gateway_request_id, tenant_id, deployment_id, model, provider,
                           prompt_tokens, completion_tokens, total_tokens, charge, currency,
                           occurred_at, body_hash, ord)
    JOIN deployments d ON d.id = e.deployment_id AND d.tenant_id = e.tenant_id
    JOIN tenants t ON t.id = e.tenant_id AND t.billing_currency = e.currency
    ORDER BY e.ord
    ON CONFLICT (gateway_request_id) DO NOTHING
    RETURNING id::text AS id, gateway_request_id`, { prepared: true });
}

export interface StoredEventRow {
  id: string;
  gateway_request_id: string;
  body_hash: string;
}

export async function findLlmEventsByGatewayIds(db: Db, gatewayRequestIds: readonly string[]): Promise<StoredEventRow[]> {
  if (gatewayRequestIds.length === 0) return [];
  return queryRows<StoredEventRow>(db, Prisma.sql`
    SELECT id::text AS id, gateway_request_id, body_hash
    FROM llm_usage_events
    WHERE gateway_request_id = ANY(${[...gatewayRequestIds]}::text[])`, { prepared: true });
}
