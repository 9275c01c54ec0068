// Subscribes a deployment to a plan version with add-ons, or changes an existing subscription's
// plan version and add-on set from `effective_at` on. One transaction under the deployment's lock.
import { z } from 'zod';
import type { PrismaClient, Tx } from '../platform/database.ts';
import type { Addon, PlanVersion, SubscriptionAddon } from '../generated/prisma/client.ts';
import { ConflictError, DomainError, NotFoundError, ValidationError, type FieldIssue } from '../platform/errors.ts';
import { code, instant, isUniqueViolation } from '../http/request-support.ts';
import { canSubscribe, subscriptionStatusFor } from '../deployments/lifecycle.ts';
import { lastRecordedChangeAt, lockDeployment } from '../deployments/repository.ts';
import { findAddonsByCodes, findPlanVersion } from '../catalog/repository.ts';
import { findSubscriptionByDeployment, type SubscriptionDetail } from './repository.ts';
import { calendarMonthUtc, defaultTrialEnd, findOpenSegment, moveSegment } from './timeline.ts';

export const subscribeBody = z.strictObject({
  plan_code: code,
  /** Default: the latest version for a new subscription or a new plan; the current one when the plan is unchanged. */
  plan_version: z.int().min(1).optional(),
  /** The desired set of add-ons; omitted = leave the attached add-ons as they are. */
  addons: z
    .array(z.strictObject({ code, quantity: z.int().min(1).max(2_147_483_647) }))
    .max(100)
    .superRefine((addons, ctx) => {
      const seen = new Set<string>();
      addons.forEach((a, i) => {
        if (seen.has(a.code)) ctx.addIssue({ code: 'custom', path: [i, 'code'], message: `${a.code} is listed twice` });
        seen.add(a.code);
      });
    })
    .optional(),
  /** When the change takes effect; default now. Not in the future, not before the last recorded change. */
  effective_at: instant.optional(),
  /** Only when the subscription is created; default effective_at + 14 days for a deployment in trial. */
  trial_ends_at: instant.optional(),
});

export interface SubscribeInput {
  deploymentId: string;
  planCode: string;
  planVersion?: number | undefined;
  addons?: { code: string; quantity: number }[] | undefined;
  effectiveAt?: Date | undefined;
  trialEndsAt?: Date | undefined;
}

export interface SubscribeResult {
  /** true when this call created the subscription (201), false when it changed or kept it (200). */
  created: boolean;
  subscription: SubscriptionDetail;
}

export async function subscribe(prisma: PrismaClient, input: SubscribeInput, now: Date): Promise<SubscribeResult> {
  const effectiveAt = input.effectiveAt ?? now;
  if (effectiveAt > now) throw new ValidationError({ field: 'effective_at', message: 'must not be in the future' });
  if (input.trialEndsAt && input.trialEndsAt < effectiveAt) {
    throw new ValidationError({ field: 'trial_ends_at', message: 'must not be before effective_at' });
  }
  try {
    return await prisma.$transaction(
      async (tx) => {
        const deployment = await lockDeployment(tx, input.deploymentId);
        if (!deployment) throw new NotFoundError('deployment');
        if (!canSubscribe(deployment.state)) {
          throw new DomainError('deployment_not_subscribable', 422, `a ${deployment.state} deployment cannot subscribe`, {
            details: { state: deployment.state },
          });
        }
        const floor = await lastRecordedChangeAt(tx, deployment.id);
        if (floor && effectiveAt < floor) {
          throw new ValidationError({
            field: 'effective_at',
            message: `must not be before ${floor.toISOString()}, the deployment's last recorded change`,
          });
        }
        const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: deployment.tenantId } });
        const existing = await tx.subscription.findUnique({ where: { deploymentId: deployment.id } });
        const open = existing ? await findOpenSegment(tx, existing.id) : null;

        const planVersion = await resolvePlanVersion(tx, input, tenant.billingCurrency, open?.planVersionId);
        const addons = input.addons ? await resolveAddons(tx, input.addons, tenant.billingCurrency) : undefined;

        if (!existing) {
          const status = subscriptionStatusFor(deployment.state);
          const period = calendarMonthUtc(effectiveAt);
          await tx.subscription.create({
            data: {
              deploymentId: deployment.id,
              status,
              startedAt: effectiveAt,
              currentPeriodStart: period.start,
              currentPeriodEnd: period.end,
              trialEndsAt: input.trialEndsAt ?? (deployment.state === 'trial' ? defaultTrialEnd(effectiveAt) : null),
              createdAt: now,
              segments: { create: [{ planVersionId: planVersion.id, status, validFrom: effectiveAt, validTo: null }] },
              addons: { create: (addons ?? []).map(({ addon, quantity }) => snapshotOf(addon, quantity, effectiveAt)) },
            },
          });
        } else {
          if (existing.status === 'cancelled' || !open) {
            throw new DomainError('subscription_ended', 422, 'this subscription has ended and cannot change');
          }
          if (input.trialEndsAt && existing.trialEndsAt?.getTime() !== input.trialEndsAt.getTime()) {
            throw new ValidationError({ field: 'trial_ends_at', message: 'can only be set when the subscription is created' });
          }
          if (open.planVersionId !== planVersion.id) await moveSegment(tx, open, effectiveAt, { planVersionId: planVersion.id });
          if (addons) await reconcileAddons(tx, existing.id, addons, effectiveAt);
        }

        const subscription = await findSubscriptionByDeployment(tx, deployment.id);
        return { created: !existing, subscription: subscription! };
      },
      { timeout: 15_000 },
    );
  } catch (error) {
    // The deployment lock makes a second subscribe wait and then see the first one's subscription;
    // the unique index on subscriptions.deployment_id is the backstop if that ever changes.
    if (isUniqueViolation(error)) {
      throw new ConflictError('subscription_exists', 'this deployment already has a subscription', { field: 'deployment_id' });
    }
    throw error;
  }
}

/**
 * The plan version to be on. An explicit plan_version wins; otherwise an unchanged plan keeps its
 * current version (changing add-ons must not silently move a subscriber onto a newer price) and a
 * new plan starts on its latest version.
 */
async function resolvePlanVersion(tx: Tx, input: SubscribeInput, currency: string, currentPlanVersionId: string | undefined): Promise<PlanVersion> {
  const plan = await tx.plan.findUnique({ where: { code: input.planCode } });
  if (!plan) throw new ValidationError({ field: 'plan_code', message: `no plan with code "${input.planCode}"` }, 'plan_not_found');

  let version: PlanVersion | null = null;
  if (input.planVersion !== undefined) {
    version = await findPlanVersion(tx, plan.id, input.planVersion);
    if (!version) {
      throw new ValidationError({ field: 'plan_version', message: `plan "${plan.code}" has no version ${input.planVersion}` }, 'plan_version_not_found');
    }
  } else {
    if (currentPlanVersionId) {
      const current = await tx.planVersion.findUnique({ where: { id: currentPlanVersionId } });
      if (current?.planId === plan.id) version = current;
    }
    version ??= await findPlanVersion(tx, plan.id);
    if (!version) throw new ValidationError({ field: 'plan_code', message: `plan "${plan.code}" has no versions yet` }, 'plan_version_not_found');
  }
  if (version.currency !== currency) {
    throw new ValidationError(
      { field: 'plan_code', message: `plan "${plan.code}" version ${version.version} is priced in ${version.currency}; the tenant is billed in ${currency}` },
      'currency_mismatch',
    );
  }
  return version;
}

async function resolveAddons(tx: Tx, wanted: { code: string; quantity: number }[], currency: string): Promise<{ addon: Addon; quantity: number }[]> {
  const found = new Map((await findAddonsByCodes(tx, wanted.map((w) => w.code))).map((a) => [a.code, a]));
  const issues: FieldIssue[] = [];
  let unknown = false;
  const resolved = wanted.flatMap((w, i) => {
    const addon = found.get(w.code);
    if (!addon) {
      unknown = true;
      issues.push({ field: `addons.${i}.code`, message: `no add-on with code "${w.code}"` });
      return [];
    }
    if (addon.currency !== currency) {
      issues.push({ field: `addons.${i}.code`, message: `add-on "${w.code}" is priced in ${addon.currency}; the tenant is billed in ${currency}` });
      return [];
    }
    return [{ addon, quantity: w.quantity }];
  });
  if (issues.length > 0) throw new ValidationError(issues, unknown ? 'addon_not_found' : 'currency_mismatch');
  return resolved;
}

/** A new subscription_addons row: the add-on's name, price and currency as they are in the catalog NOW. */
function snapshotOf(addon: Addon, quantity: number, at: Date) {
  return {
    addonId: addon.id,
    addonCode: addon.code,
    addonName: addon.name,
    unitPriceMinor: addon.priceMinor,
    currency: addon.currency,
    quantity,
    attachedAt: at,
  };
}

/**
 * Makes the open add-on rows match the desired set from `at` on:
 * - not attached → attach with a fresh snapshot of the catalog price;
 * - attached, same quantity → untouched;
 * - attached, other quantity → the old row is detached at `at` and a new row attached at `at` with
 *   the SAME snapshot (name, unit price, currency): a quantity change never reprices. If the old row
 *   was attached at `at` itself, its quantity is corrected in place instead;
 * - attached but not wanted → detached at `at`.
 */
async function reconcileAddons(tx: Tx, subscriptionId: string, desired: { addon: Addon; quantity: number }[], at: Date): Promise<void> {
  const open = await tx.subscriptionAddon.findMany({ where: { subscriptionId, detachedAt: null } });
  const openByAddon = new Map<string, SubscriptionAddon>(open.map((row) => [row.addonId, row]));
  const wanted = new Set<string>();

  for (const { addon, quantity } of desired) {
    wanted.add(addon.id);
    const row = openByAddon.get(addon.id);
    if (!row) {
      await tx.subscriptionAddon.create({ data: { subscriptionId, ...snapshotOf(addon, quantity, at) } });
    } else if (row.quantity === quantity) {
      continue;
    } else if (row.attachedAt.getTime() === at.getTime()) {
      await tx.subscriptionAddon.update({ where: { id: row.id }, data: { quantity } });
    } else {
      await tx.subscriptionAddon.update({ where: { id: row.id }, data: { detachedAt: at } });
      await tx.subscriptionAddon.create({
        data: {
          subscriptionId,
          addonId: row.addonId,
          addonCode: row.addonCode,
          addonName: row.addonName,
          unitPriceMinor: row.unitPriceMinor,
          currency: row.currency,
          quantity,
          attachedAt: at,
        },
      });
    }
  }
  for (const row of open) {
    if (!wanted.has(row.addonId)) await tx.subscriptionAddon.update({ where: { id: row.id }, data: { detachedAt: at } });
  }
}
