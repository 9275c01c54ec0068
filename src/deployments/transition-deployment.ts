// Moves a deployment to another lifecycle state, records the event and moves its subscription's
// timeline with it, all in one transaction under the deployment's row lock.
import { z } from 'zod';
import type { PrismaClient } from '../platform/database.ts';
import type { Deployment, DeploymentEvent, DeploymentState } from '../generated/prisma/client.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';
import { instant } from '../http/request-support.ts';
import { applyDeploymentState } from '../subscriptions/timeline.ts';
import { assertTransition, DEPLOYMENT_STATES } from './lifecycle.ts';
import { lastRecordedChangeAt, lockDeployment } from './repository.ts';

export const transitionBody = z.strictObject({
  to: z.enum(DEPLOYMENT_STATES),
  reason: z.string().trim().min(1).max(1000).optional(),
  /** When it happened; default now. Not in the future, not before the last recorded change. */
  at: instant.optional(),
});

export interface TransitionInput {
  deploymentId: string;
  to: DeploymentState;
  reason?: string | undefined;
  at?: Date | undefined;
  actor: string;
}

export async function transitionDeployment(
  prisma: PrismaClient,
  input: TransitionInput,
  now: Date,
): Promise<{ deployment: Deployment; event: DeploymentEvent }> {
  const at = input.at ?? now;
  if (at > now) throw new ValidationError({ field: 'at', message: 'must not be in the future' });
  return prisma.$transaction(
    async (tx) => {
      const current = await lockDeployment(tx, input.deploymentId);
      if (!current) throw new NotFoundError('deployment');
      assertTransition(current.state, input.to);
      const floor = await lastRecordedChangeAt(tx, current.id);
      if (floor && at < floor) {
        throw new ValidationError({
          field: 'at',
          message: `must not be before ${floor.toISOString()}, the deployment's last recorded change`,
        });
      }
      const deployment = await tx.deployment.update({ where: { id: current.id }, data: { state: input.to } });
      const event = await tx.deploymentEvent.create({
        data: { deploymentId: current.id, fromState: current.state, toState: input.to, actor: input.actor, reason: input.reason ?? null, at },
      });
      await applyDeploymentState(tx, { deploymentId: current.id, from: current.state, to: input.to, at });
      return { deployment, event };
    },
    { timeout: 15_000 },
  );
}
