// Creates a plan, optionally with its first version in the same transaction.
import { z } from 'zod';
import type { PrismaClient } from '../platform/database.ts';
import { ConflictError } from '../platform/errors.ts';
import { code, isUniqueViolation } from '../http/request-support.ts';
import { insertPlanVersion, planVersionBody } from './create-plan-version.ts';
import type { PlanWithVersions } from './repository.ts';

export const createPlanBody = z.strictObject({
  code,
  name: z.string().trim().min(1).max(200),
  version: planVersionBody.optional(),
});

export type CreatePlanInput = z.output<typeof createPlanBody>;

export async function createPlan(prisma: PrismaClient, input: CreatePlanInput, now: Date): Promise<PlanWithVersions> {
  return prisma.$transaction(async (tx) => {
    let plan;
    try {
      plan = await tx.plan.create({ data: { code: input.code, name: input.name, createdAt: now } });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError('plan_code_taken', `a plan with code "${input.code}" already exists`, { field: 'code' });
      }
      throw error;
    }
    const versions = input.version ? [await insertPlanVersion(tx, plan.id, 1, input.version, now)] : [];
    return { ...plan, versions };
  });
}
