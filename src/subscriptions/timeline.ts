// The subscription timeline: segments (plan version × status over [valid_from, valid_to)) and the
// moves that change it. Every function here runs inside the caller's transaction, after the caller
// has locked the deployment row and checked `at` is not before the last recorded change.
import type { Tx } from '../platform/database.ts';
import type { DeploymentState, SubscriptionSegment, SubscriptionStatus } from '../generated/prisma/client.ts';
import { subscriptionStatusFor } from '../deployments/lifecycle.ts';

export const DEFAULT_TRIAL_DAYS = 14;

/** The calendar month (UTC) containing `at`: [first instant of the month, first instant of the next). */
export function calendarMonthUtc(at: Date): { start: Date; end: Date } {
  return {
    start: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)),
    end: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)),
  };
}

/** Default trial end: `at` + 14 days (like Stripe's trial_period_days). */
export function defaultTrialEnd(at: Date): Date {
  return new Date(at.getTime() + DEFAULT_TRIAL_DAYS * 24 * 60 * 60 * 1000);
}

export async function findOpenSegment(tx: Tx, subscriptionId: string): Promise<SubscriptionSegment | null> {
  return tx.subscriptionSegment.findFirst({ where: { subscriptionId, validTo: null }, orderBy: { validFrom: 'desc' } });
}

function assertNotBefore(open: SubscriptionSegment, at: Date): void {
  // Callers check this against the whole timeline first; reaching here is a programming error.
  if (at < open.validFrom) throw new Error(`segment ${open.id} starts at ${open.validFrom.toISOString()}, after ${at.toISOString()}`);
}

/**
 * From `at` on, the subscription has another plan version and/or status: the open segment ends at
 * `at` and a new one starts there. When `at` is the open segment's own start, that segment is
 * changed in place instead: a zero-length segment (valid_to = valid_from) is never written.
 */
export async function moveSegment(
  tx: Tx,
  open: SubscriptionSegment,
  at: Date,
  change: { status?: SubscriptionStatus; planVersionId?: string },
): Promise<void> {
  assertNotBefore(open, at);
  const planVersionId = change.planVersionId ?? open.planVersionId;
  const status = change.status ?? open.status;
  if (open.validFrom.getTime() === at.getTime()) {
    await tx.subscriptionSegment.update({ where: { id: open.id }, data: { planVersionId, status } });
    return;
  }
  await tx.subscriptionSegment.update({ where: { id: open.id }, data: { validTo: at } });
  await tx.subscriptionSegment.create({ data: { subscriptionId: open.subscriptionId, planVersionId, status, validFrom: at, validTo: null } });
}

/**
 * The subscription ends at `at`: the open segment closes and no new one opens. If it began at `at`
 * it covers no time and cannot be closed (valid_to must be after valid_from), so it stays open with
 * status 'cancelled' — never billable.
 */
export async function endSegment(tx: Tx, open: SubscriptionSegment, at: Date): Promise<void> {
  assertNotBefore(open, at);
  if (open.validFrom.getTime() === at.getTime()) {
    await tx.subscriptionSegment.update({ where: { id: open.id }, data: { status: 'cancelled' } });
    return;
  }
  await tx.subscriptionSegment.update({ where: { id: open.id }, data: { validTo: at } });
}

/**
 * A deployment moved from `from` to `to` at `at`; its subscription (if any) follows:
 * - the mapped status changed (active ↔ paused, or → cancelled): close the open segment at `at` and
 *   open one with the new status (same plan version), or on cancel end the subscription, its open
 *   segment and its add-ons at `at`;
 * - trial → active ends the trial early: trial_ends_at becomes `at` unless it was already earlier.
 */
export async function applyDeploymentState(
  tx: Tx,
  change: { deploymentId: string; from: DeploymentState; to: DeploymentState; at: Date },
): Promise<void> {
  const subscription = await tx.subscription.findUnique({ where: { deploymentId: change.deploymentId } });
  if (!subscription) return;
  const { at } = change;
  const status = subscriptionStatusFor(change.to);
  const update: { status?: SubscriptionStatus; endedAt?: Date; trialEndsAt?: Date } = {};

  if (change.from === 'trial' && change.to === 'active' && (subscription.trialEndsAt === null || subscription.trialEndsAt > at)) {
    update.trialEndsAt = at;
  }

  if (status !== subscription.status) {
    const open = await findOpenSegment(tx, subscription.id);
    if (status === 'cancelled') {
      if (open) await endSegment(tx, open, at);
      await tx.subscriptionAddon.updateMany({ where: { subscriptionId: subscription.id, detachedAt: null }, data: { detachedAt: at } });
      update.endedAt = at;
    } else if (open) {
      await moveSegment(tx, open, at, { status });
    } else {
      throw new Error(`subscription ${subscription.id} is ${subscription.status} but has no open segment`);
    }
    update.status = status;
  }

  if (Object.keys(update).length > 0) await tx.subscription.update({ where: { id: subscription.id }, data: update });
}
