// Creates a deployment in its initial state and records that as its first lifecycle event
// (from null). Nothing is billed until it subscribes to a plan (src/subscriptions).
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import type { Deployment } from '../generated/prisma/client.ts';
import { ConflictError, ValidationError } from '../platform/errors.ts';
import { instant, isUniqueViolation, slug, uuid } from '../http/request-support.ts';
import { findTenant } from '../tenants/repository.ts';
import { INITIAL_STATES } from './lifecycle.ts';

export const LLM_MODES = ['platform', 'byok', 'disabled'] as const;

export const createDeploymentBody = z.strictObject({
  tenant_id: uuid,
  slug,
  display_name: z.string().trim().min(1).max(200),
  region: z.string().trim().min(1).max(64),
  llm_mode: z.enum(LLM_MODES).default('platform'),
  state: z.enum(INITIAL_STATES).default('trial'),
  billing_action_suspended: z.boolean().default(false),
  /** When the deployment came into being (and its first event's `at`); default now, never in the future. */
  created_at: instant.optional(),
});

export type CreateDeploymentInput = z.output<typeof createDeploymentBody>;

export async function createDeployment(db: Db, input: CreateDeploymentInput, context: { actor: string; now: Date }): Promise<Deployment> {
  const createdAt = input.created_at ?? context.now;
  if (createdAt > context.now) throw new ValidationError({ field: 'created_at', message: 'must not be in the future' });
  if (!(await findTenant(db, input.tenant_id))) {
    throw new ValidationError({ field: 'tenant_id', message: `no tenant with id ${input.tenant_id}` }, 'tenant_not_found');
  }
  try {
    // One statement with a nested create: the deployment and its first event commit together.
    return await db.deployment.create({
      data: {
        tenantId: input.tenant_id,
        slug: input.slug,
        displayName: input.display_name,
        region: input.region,
        llmMode: input.llm_mode,
        state: input.state,
        billingActionSuspended: input.billing_action_suspended,
        createdAt,
        events: { create: { fromState: null, toState: input.state, actor: context.actor, reason: 'created', at: createdAt } },
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError('deployment_slug_taken', `this tenant already has a deployment with slug "${input.slug}"`, { field: 'slug' });
    }
    throw error;
  }
}
