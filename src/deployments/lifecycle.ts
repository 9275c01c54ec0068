// The deployment lifecycle as data: which state may follow which, and what each state means for
// the subscription's billing status. Pure: no I/O, so it is tested without a database.
import type { DeploymentState, SubscriptionStatus } from '../generated/prisma/client.ts';
import { DomainError } from '../platform/errors.ts';

export const DEPLOYMENT_STATES = ['trial', 'active', 'past_due', 'paused', 'suspended', 'cancelled', 'archived'] as const satisfies readonly DeploymentState[];

/** A deployment is created in one of these. */
export const INITIAL_STATES = ['trial', 'active'] as const satisfies readonly DeploymentState[];

/** The only allowed moves. Anything not listed (including "to the same state") is invalid. */
export const TRANSITIONS: Readonly<Record<DeploymentState, readonly DeploymentState[]>> = {
  trial: ['active', 'cancelled'],
  active: ['past_due', 'paused', 'suspended', 'cancelled'],
  past_due: ['active', 'suspended', 'cancelled'],
  paused: ['active', 'cancelled'],
  suspended: ['active', 'cancelled'],
  cancelled: ['archived'],
  archived: [],
};

/** What the subscription is while the deployment is in a state: billed, not billed, or over. */
export const SUBSCRIPTION_STATUS_FOR: Readonly<Record<DeploymentState, SubscriptionStatus>> = {
  trial: 'active',
  active: 'active',
  past_due: 'active',
  paused: 'paused',
  suspended: 'paused',
  cancelled: 'cancelled',
  archived: 'cancelled',
};

export function canTransition(from: DeploymentState, to: DeploymentState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function subscriptionStatusFor(state: DeploymentState): SubscriptionStatus {
  return SUBSCRIPTION_STATUS_FOR[state];
}

/** A cancelled or archived deployment cannot take a (new) subscription. */
export function canSubscribe(state: DeploymentState): boolean {
  return SUBSCRIPTION_STATUS_FOR[state] !== 'cancelled';
}

export class InvalidTransitionError extends DomainError {
  constructor(from: DeploymentState, to: DeploymentState) {
    const allowed = TRANSITIONS[from];
    super(
      'invalid_transition',
      422,
      `a deployment cannot go from ${from} to ${to}` + (allowed.length ? ` (from ${from}: ${allowed.join(', ')})` : ` (${from} is final)`),
      { field: 'to', details: { from, to } },
    );
  }
}

export function assertTransition(from: DeploymentState, to: DeploymentState): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}

export interface LifecycleEvent {
  fromState: DeploymentState | null;
  toState: DeploymentState;
  at: Date;
}

/**
 * Events in the order they happened. `at` alone can tie (several transitions at one instant), so
 * each group of ties is ordered as a chain: every event leaves the state the previous one entered
 * (an Eulerian trail through the group, starting where the previous group ended). Several chains
 * may fit; all of them end in the same state, which is what the instant leaves behind.
 */
export function orderEvents<E extends LifecycleEvent>(events: readonly E[]): E[] {
  const byTime = [...events].sort((a, b) => a.at.getTime() - b.at.getTime());
  const ordered: E[] = [];
  let i = 0;
  while (i < byTime.length) {
    let j = i;
    while (j < byTime.length && byTime[j]!.at.getTime() === byTime[i]!.at.getTime()) j += 1;
    const previous = ordered.length > 0 ? ordered.at(-1)!.toState : null;
    ordered.push(...chain(byTime.slice(i, j), previous));
    i = j;
  }
  return ordered;
}

const vertex = (state: DeploymentState | null) => state ?? '(none)';

/** Hierholzer's algorithm; events that do not fit one chain (inconsistent data) keep their place at the end. */
function chain<E extends LifecycleEvent>(tie: E[], previous: DeploymentState | null): E[] {
  if (tie.length < 2) return tie;
  const outgoing = new Map<string, E[]>();
  const balance = new Map<string, number>();
  for (const e of tie) {
    const from = vertex(e.fromState);
    outgoing.set(from, [...(outgoing.get(from) ?? []), e]);
    balance.set(from, (balance.get(from) ?? 0) + 1);
    balance.set(e.toState, (balance.get(e.toState) ?? 0) - 1);
  }
  for (const list of outgoing.values()) list.reverse(); // pop() takes the earliest listed first
  let start = vertex(previous);
  if (!outgoing.has(start)) start = [...balance].find(([, b]) => b > 0)?.[0] ?? vertex(tie[0]!.fromState);

  const stack: { at: string; via: E | null }[] = [{ at: start, via: null }];
  const trail: E[] = [];
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    const next = outgoing.get(top.at)?.pop();
    if (next) {
      stack.push({ at: next.toState, via: next });
    } else {
      stack.pop();
      if (top.via) trail.push(top.via);
    }
  }
  trail.reverse();
  const used = new Set(trail);
  return [...trail, ...tie.filter((e) => !used.has(e))];
}
