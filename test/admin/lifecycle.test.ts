// Pure: the lifecycle map and event ordering, no database.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DeploymentState } from '../../src/generated/prisma/client.ts';
import {
  DEPLOYMENT_STATES,
  InvalidTransitionError,
  TRANSITIONS,
  assertTransition,
  canSubscribe,
  canTransition,
  orderEvents,
  subscriptionStatusFor,
} from '../../src/deployments/lifecycle.ts';

describe('transition map', () => {
  it('is exactly the documented one', () => {
    expect(TRANSITIONS).toEqual({
      trial: ['active', 'cancelled'],
      active: ['past_due', 'paused', 'suspended', 'cancelled'],
      past_due: ['active', 'suspended', 'cancelled'],
      paused: ['active', 'cancelled'],
      suspended: ['active', 'cancelled'],
      cancelled: ['archived'],
      archived: [],
    });
  });

  it('refuses every pair not in the map, naming both states', () => {
    for (const from of DEPLOYMENT_STATES) {
      for (const to of DEPLOYMENT_STATES) {
        if (TRANSITIONS[from].includes(to)) {
          expect(canTransition(from, to)).toBe(true);
          expect(() => assertTransition(from, to)).not.toThrow();
        } else {
          expect(canTransition(from, to)).toBe(false);
          try {
            assertTransition(from, to);
            expect.unreachable();
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidTransitionError);
            const e = error as InvalidTransitionError;
            expect(e.status).toBe(422);
            expect(e.code).toBe('invalid_transition');
            expect(e.details).toEqual({ from, to });
            expect(e.message).toContain(`from ${from} to ${to}`);
          }
        }
      }
    }
  });

  it('maps deployment states to subscription statuses', () => {
    expect(DEPLOYMENT_STATES.map((s) => [s, subscriptionStatusFor(s)])).toEqual([
      ['trial', 'active'],
      ['active', 'active'],
      ['past_due', 'active'],
      ['paused', 'paused'],
      ['suspended', 'paused'],
      ['cancelled', 'cancelled'],
      ['archived', 'cancelled'],
    ]);
    expect(DEPLOYMENT_STATES.filter(canSubscribe)).toEqual(['trial', 'active', 'past_due', 'paused', 'suspended']);
  });
});

describe('orderEvents', () => {
  type Ev = { id: number; fromState: DeploymentState | null; toState: DeploymentState; at: Date };

  /** A random valid history: a walk through the map, many events sharing an instant. */
  const history = fc
    .record({
      initial: fc.constantFrom<DeploymentState>('trial', 'active'),
      choices: fc.array(fc.nat(), { maxLength: 25 }),
      gaps: fc.array(fc.constantFrom(0, 0, 1000), { minLength: 25, maxLength: 25 }),
      shuffle: fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
    })
    .map(({ initial, choices, gaps, shuffle }) => {
      let t = Date.UTC(2026, 10, 1);
      const events: Ev[] = [{ id: 0, fromState: null, toState: initial, at: new Date(t) }];
      let state = initial;
      choices.forEach((c, i) => {
        const options = TRANSITIONS[state];
        if (options.length === 0) return;
        const to = options[c % options.length]!;
        t += gaps[i]!;
        events.push({ id: events.length, fromState: state, toState: to, at: new Date(t) });
        state = to;
      });
      const shuffled = events.map((e, i) => ({ e, k: shuffle[i] ?? 0 })).sort((a, b) => a.k - b.k).map((x) => x.e);
      return { events, shuffled, final: state };
    });

  it('recovers a valid chain from any storage order, ending in the real final state', () => {
    fc.assert(
      fc.property(history, ({ events, shuffled, final }) => {
        const ordered = orderEvents(shuffled);
        expect(ordered).toHaveLength(events.length);
        expect(new Set(ordered.map((e) => e.id)).size).toBe(events.length);
        expect(ordered[0]!.fromState).toBeNull();
        for (let i = 1; i < ordered.length; i += 1) {
          expect(ordered[i]!.fromState).toBe(ordered[i - 1]!.toState);
          expect(ordered[i]!.at.getTime()).toBeGreaterThanOrEqual(ordered[i - 1]!.at.getTime());
        }
        expect(ordered.at(-1)!.toState).toBe(final);
      }),
      { numRuns: 500 },
    );
  });

  it('does not dead-end where a greedy pick would (active→cancelled listed before the loop)', () => {
    const at = new Date('2026-11-10T00:00:00Z');
    const events: Ev[] = [
      { id: 1, fromState: 'active', toState: 'cancelled', at },
      { id: 2, fromState: 'paused', toState: 'active', at },
      { id: 3, fromState: 'active', toState: 'paused', at },
      { id: 0, fromState: null, toState: 'active', at: new Date('2026-11-01T00:00:00Z') },
    ];
    expect(orderEvents(events).map((e) => e.id)).toEqual([0, 3, 2, 1]);
  });
});
