// Pure tests of the quote engine: no database.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { canonicalInputs, canonicalInputsJson, computeQuote, inputsHash, type DeploymentInput, type QuoteInput, type SegmentInput } from '../../src/invoicing/quote-engine.ts';
import { parseDecimal, trimDecimal } from '../../src/money/decimal.ts';
import { moneyFromMajor, moneyFromMinor, multiplyExact, roundToMinor } from '../../src/money/money.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';

const april = parsePeriod('2026-04');
const at = (iso: string) => new Date(iso);

const studioV1: Omit<SegmentInput, 'status' | 'validFrom' | 'validTo'> = {
  planVersionId: 'pv-1',
  planCode: 'studio',
  planVersion: 1,
  basePriceMinor: 5000n,
  allowances: [{ resourceKind: 'droplet', includedHours: 1488n, overageUnitPrice: '0.01' }],
};

function deployment(overrides: Partial<DeploymentInput> = {}): DeploymentInput {
  return {
    deploymentId: 'dep-1',
    slug: 'pilot',
    subscriptionId: 'sub-1',
    trialEndsAt: null,
    segments: [{ ...studioV1, status: 'active', validFrom: at('2026-03-01T00:00:00Z'), validTo: null }],
    addons: [
      { subscriptionAddonId: 'sa-1', code: 'storage_50gb', name: 'Storage 50 GB', unitPriceMinor: 750n, quantity: 1, attachedAt: at('2026-03-01T00:00:00Z'), detachedAt: null },
    ],
    resourceHours: [{ resourceKind: 'droplet', hours: 2160n }],
    llm: { eventCount: 0, chargeSum: '0' },
    ...overrides,
  };
}

function quoteInput(deployments: DeploymentInput[], rate = '0.1'): QuoteInput {
  return { tenantId: 't-1', currency: 'AUD', tax: { country: 'AU', rate }, period: april, deployments };
}

describe('quote engine', () => {
  it('prices the pilot scenario to the cent', () => {
    const quote = computeQuote(quoteInput([deployment()]));
    const byKind = Object.fromEntries(quote.lines.map((l) => [l.kind, l]));
    expect(byKind.plan_base?.amountMinor).toBe(5000n);
    expect(byKind.addon?.amountMinor).toBe(750n);
    expect(byKind.addon?.description).toContain('Add-on: storage_50gb');
    expect(byKind.overage?.amountMinor).toBe(672n);
    expect(byKind.overage?.quantity).toBe('672');
    expect(byKind.overage?.unitPrice).toBe('0.01');
    expect(byKind.overage?.resourceKind).toBe('droplet');
    expect(quote.subtotalMinor).toBe(6422n);
    expect(quote.taxMinor).toBe(642n);
    expect(quote.totalMinor).toBe(7064n);
    expect(byKind.tax?.deploymentId).toBeNull();
    expect(quote.lines.at(-1)?.kind).toBe('tax');
  });

  it('prorates plan base and add-on by billable hours when the subscription starts mid-month', () => {
    // Active from 16 April 00:00: 360 of 720 hours.
    const quote = computeQuote(
      quoteInput([
        deployment({
          segments: [{ ...studioV1, status: 'active', validFrom: at('2026-04-16T00:00:00Z'), validTo: null }],
          addons: [{ subscriptionAddonId: 'sa-1', code: 'storage_50gb', name: 'S', unitPriceMinor: 750n, quantity: 1, attachedAt: at('2026-04-16T00:00:00Z'), detachedAt: null }],
          resourceHours: [],
        }),
      ]),
    );
    expect(quote.lines.find((l) => l.kind === 'plan_base')?.amountMinor).toBe(2500n);
    expect(quote.lines.find((l) => l.kind === 'plan_base')?.description).toContain('prorated 360 of 720 h');
    expect(quote.lines.find((l) => l.kind === 'addon')?.amountMinor).toBe(375n);
  });

  it('does not bill trial, paused or cancelled hours', () => {
    const quote = computeQuote(
      quoteInput([
        deployment({
          trialEndsAt: at('2026-04-06T00:00:00Z'), // 5 days of trial
          segments: [
            { ...studioV1, status: 'active', validFrom: at('2026-03-25T00:00:00Z'), validTo: at('2026-04-11T00:00:00Z') },
            { ...studioV1, status: 'paused', validFrom: at('2026-04-11T00:00:00Z'), validTo: at('2026-04-21T00:00:00Z') },
            { ...studioV1, status: 'active', validFrom: at('2026-04-21T00:00:00Z'), validTo: at('2026-04-26T00:00:00Z') },
          ],
          addons: [],
          resourceHours: [],
        }),
      ]),
    );
    // Billable: 6–11 April (5 days) + 21–26 April (5 days) = 10 of 30 days.
    const base = quote.lines.find((l) => l.kind === 'plan_base');
    expect(base?.amountMinor).toBe(1667n); // 5000 × 10/30 = 1666.67 → 1667
    expect(quote.billableMs['dep-1']).toBe(10n * 24n * 3_600_000n);
  });

  it('bills each plan version for the hours it was in force when the plan changes mid-month', () => {
    const v2: SegmentInput = {
      planVersionId: 'pv-2', planCode: 'studio', planVersion: 2, basePriceMinor: 8000n,
      allowances: [{ resourceKind: 'droplet', includedHours: 2000n, overageUnitPrice: '0.02' }],
      status: 'active', validFrom: at('2026-04-11T00:00:00Z'), validTo: null,
    };
    const quote = computeQuote(
      quoteInput([
        deployment({
          segments: [{ ...studioV1, status: 'active', validFrom: at('2026-03-01T00:00:00Z'), validTo: at('2026-04-11T00:00:00Z') }, v2],
          addons: [],
        }),
      ]),
    );
    const bases = quote.lines.filter((l) => l.kind === 'plan_base');
    expect(bases.map((l) => l.amountMinor)).toEqual([1667n, 5333n]); // 5000 × 10/30, 8000 × 20/30
    // The version in force at the end of the period sets the allowance: 2160 − 2000 = 160 h × 0.02.
    expect(quote.lines.find((l) => l.kind === 'overage')?.amountMinor).toBe(320n);
  });

  it('sums LLM charges exactly and rounds once per deployment', () => {
    // 1,000 events of 0.00125 are 1.25, not 1,000 × round(0.00125) = 0.
    const quote = computeQuote(quoteInput([deployment({ addons: [], resourceHours: [], llm: { eventCount: 1000, chargeSum: '1.250000000000' } })]));
    const llm = quote.lines.find((l) => l.kind === 'llm_usage');
    expect(llm?.amountMinor).toBe(125n);
    expect(llm?.unitPrice).toBe('1.25');
  });

  it('rounds half a cent away from zero, once', () => {
    const quote = computeQuote(quoteInput([deployment({ addons: [], resourceHours: [], segments: [], llm: { eventCount: 3, chargeSum: '0.005' } })]));
    expect(quote.lines.find((l) => l.kind === 'llm_usage')?.amountMinor).toBe(1n);
    // GST on 6425: 642.5 → 643 (half a cent rounds up).
    const taxed = computeQuote(quoteInput([deployment({ addons: [], resourceHours: [], segments: [], llm: { eventCount: 1, chargeSum: '64.25' } })]));
    expect(taxed.taxMinor).toBe(643n);
  });

  it('is billable with a zero total when the plan is free', () => {
    const quote = computeQuote(quoteInput([deployment({ segments: [{ ...studioV1, basePriceMinor: 0n, allowances: [], status: 'active', validFrom: at('2026-01-01T00:00:00Z'), validTo: null }], addons: [], resourceHours: [] })]));
    expect(quote.billable).toBe(true);
    expect(quote.totalMinor).toBe(0n);
  });

  it('keeps add-on proration to the hours it was attached while billable', () => {
    const quote = computeQuote(
      quoteInput([
        deployment({
          addons: [{ subscriptionAddonId: 'sa-1', code: 'gpu', name: 'GPU', unitPriceMinor: 3000n, quantity: 2, attachedAt: at('2026-04-01T00:00:00Z'), detachedAt: at('2026-04-11T00:00:00Z') }],
          resourceHours: [],
        }),
      ]),
    );
    expect(quote.lines.find((l) => l.kind === 'addon')?.amountMinor).toBe(2000n); // 6000 × 10/30
  });
});

describe('quote engine properties', () => {
  const instant = fc.integer({ min: Date.parse('2026-03-20T00:00:00Z'), max: Date.parse('2026-05-10T00:00:00Z') }).map((ms) => new Date(ms));
  const decimal = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 6n }), fc.integer({ min: 0, max: 12 })).map(([amount, scale]) => {
    const s = amount.toString().padStart(scale + 1, '0');
    return scale === 0 ? s : `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  });
  const segment = fc.record({
    from: instant,
    hours: fc.integer({ min: 1, max: 2000 }),
    status: fc.constantFrom('active', 'paused', 'cancelled' as const),
    base: fc.bigInt({ min: 0n, max: 10_000_000n }),
    included: fc.bigInt({ min: 0n, max: 3000n }),
    price: decimal,
  });
  const dep = fc.record({
    segments: fc.array(segment, { minLength: 0, maxLength: 3 }),
    hours: fc.bigInt({ min: 0n, max: 100_000n }),
    llmCount: fc.integer({ min: 0, max: 10_000 }),
    llmSum: decimal,
    addonPrice: fc.bigInt({ min: 0n, max: 100_000n }),
    addonQty: fc.integer({ min: 1, max: 5 }),
    trial: fc.option(instant, { nil: null }),
  });

  it('lines always sum to the subtotal and total = subtotal + tax', () => {
    fc.assert(
      fc.property(fc.array(dep, { minLength: 1, maxLength: 4 }), fc.constantFrom('0', '0.1', '0.15', '0.0825'), (deps, rate) => {
        const input = quoteInput(
          deps.map((d, i) => ({
            deploymentId: `dep-${i}`,
            slug: `d${i}`,
            subscriptionId: `sub-${i}`,
            trialEndsAt: d.trial,
            segments: d.segments.map((s, j) => ({
              planVersionId: `pv-${j}`, planCode: 'p', planVersion: j + 1, basePriceMinor: s.base, status: s.status,
              validFrom: s.from, validTo: new Date(s.from.getTime() + s.hours * 3_600_000),
              allowances: [{ resourceKind: 'droplet', includedHours: s.included, overageUnitPrice: s.price }],
            })),
            addons: [{ subscriptionAddonId: `a-${i}`, code: 'x', name: 'X', unitPriceMinor: d.addonPrice, quantity: d.addonQty, attachedAt: new Date('2026-04-05T00:00:00Z'), detachedAt: null }],
            resourceHours: [{ resourceKind: 'droplet', hours: d.hours }],
            llm: { eventCount: d.llmCount, chargeSum: d.llmSum },
          })),
          rate,
        );
        const quote = computeQuote(input);
        const nonTax = quote.lines.filter((l) => l.kind !== 'tax');
        expect(nonTax.reduce((s, l) => s + l.amountMinor, 0n)).toBe(quote.subtotalMinor);
        expect(quote.totalMinor).toBe(quote.subtotalMinor + quote.taxMinor);
        expect(quote.lines.filter((l) => l.kind === 'tax')).toHaveLength(1);
        expect(quote.lines.reduce((s, l) => s + l.amountMinor, 0n)).toBe(quote.totalMinor);
        for (const l of quote.lines) expect(l.amountMinor >= 0n).toBe(true);

        // The engine's plain-bigint money equals the dinero compositions it replaced, line by line.
        for (const l of quote.lines) {
          if (l.kind === 'overage') expect(l.amountMinor).toBe(roundToMinor(multiplyExact(moneyFromMajor(parseDecimal(l.unitPrice), 'AUD'), BigInt(l.quantity))));
          if (l.kind === 'llm_usage') expect(l.amountMinor).toBe(roundToMinor(moneyFromMajor(parseDecimal(l.unitPrice), 'AUD')));
          if (l.kind === 'tax') expect(l.amountMinor).toBe(roundToMinor(multiplyExact(moneyFromMinor(quote.subtotalMinor, 'AUD'), trimDecimal(parseDecimal(rate)))));
        }

        // The one-pass canonical JSON and hash equal the object round trip they replaced (stored hashes stay valid).
        const { json, hash } = canonicalInputsJson(input, 7);
        const reference = referenceCanonical(input, 7);
        expect(JSON.parse(json)).toEqual(reference);
        expect(hash).toBe(referenceHash(reference));
        expect(hash).toBe(inputsHash({ ...canonicalInputs(input), llm_event_count: 7 }));
      }),
      { numRuns: 300 },
    );
  });
});

/** The canonical form and hash as first written (JSON round trip, then keys sorted): stored hashes were made this way. */
function referenceCanonical(input: QuoteInput, llmEventCount: number): Record<string, unknown> {
  const ordered = {
    ...input,
    deployments: [...input.deployments]
      .sort((a, b) => a.deploymentId.localeCompare(b.deploymentId))
      .map((d) => ({
        ...d,
        segments: [...d.segments].sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime()),
        addons: [...d.addons].sort((a, b) => a.subscriptionAddonId.localeCompare(b.subscriptionAddonId)),
        resourceHours: [...d.resourceHours].sort((a, b) => a.resourceKind.localeCompare(b.resourceKind)),
      })),
  };
  const plain = JSON.parse(JSON.stringify(ordered, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
  return { ...plain, llm_event_count: llmEventCount };
}

function referenceHash(canonical: Record<string, unknown>): string {
  const stable = (value: unknown): string => {
    if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
    if (value && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
    }
    return JSON.stringify(value);
  };
  return createHash('sha256').update(stable(canonical)).digest('hex');
}
