import type { Deployment, DeploymentEvent } from '../generated/prisma/client.ts';
import type { SubscriptionDetail } from '../subscriptions/repository.ts';
import { z } from 'zod';
import { isoDateTime } from '../http/responses.ts';
import { subscriptionJson, subscriptionJsonSchema } from '../subscriptions/json.ts';

export function deploymentJson(d: Deployment) {
  return {
    id: d.id,
    tenant_id: d.tenantId,
    slug: d.slug,
    display_name: d.displayName,
    region: d.region,
    state: d.state,
    llm_mode: d.llmMode,
    billing_action_suspended: d.billingActionSuspended,
    created_at: d.createdAt.toISOString(),
  };
}

export function deploymentEventJson(e: DeploymentEvent) {
  return { id: e.id, from: e.fromState, to: e.toState, actor: e.actor, reason: e.reason, at: e.at.toISOString() };
}

export function deploymentDetailJson(d: Deployment, events: DeploymentEvent[], subscription: SubscriptionDetail | null) {
  return {
    ...deploymentJson(d),
    subscription: subscription ? subscriptionJson(subscription) : null,
    events: events.map(deploymentEventJson),
  };
}

export const deploymentJsonSchema = z.strictObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  slug: z.string(),
  display_name: z.string(),
  region: z.string(),
  state: z.string(),
  llm_mode: z.string(),
  billing_action_suspended: z.boolean(),
  created_at: isoDateTime,
});

export const deploymentEventJsonSchema = z.strictObject({
  id: z.uuid(),
  from: z.string().nullable(),
  to: z.string(),
  actor: z.string(),
  reason: z.string().nullable(),
  at: isoDateTime,
});

export const deploymentDetailJsonSchema = deploymentJsonSchema.extend({
  subscription: subscriptionJsonSchema.nullable(),
  events: z.array(deploymentEventJsonSchema),
});
