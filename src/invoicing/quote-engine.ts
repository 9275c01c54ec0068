// The quote engine: a pure function from a tenant's billing inputs for one period to invoice
// lines and totals. Month close and the quote endpoint both call it, so a quoted price and an
// invoiced price are computed identically. No I/O, no clock: everything arrives in the input.
//
// Rounding: every amount is computed exactly and rounded ONCE per line to minor units, half away
// from zero. Tax is rate × subtotal rounded once (the Australian total-invoice rule).
import { createHash } from 'node:crypto';
import { formatDecimal, divideHalfAwayFromZero, parseDecimal, ratioToDecimal, trimDecimal } from '../money/decimal.ts';
import { exponentOf, formatMinorFast, majorTimesToMinor, majorToMinor, minorTimesToMinor } from '../money/money.ts';

export type LineKind = 'plan_base' | 'addon' | 'overage' | 'llm_usage' | 'tax';
export type SubscriptionStatus = 'active' | 'paused' | 'cancelled';

export interface PlanAllowance {
  resourceKind: string;
  includedHours: bigint;
  /** Major units per hour, exact decimal string ("0.01"). */
  overageUnitPrice: string;
}

export interface SegmentInput {
  planVersionId: string;
  planCode: string;
  planVersion: number;
  basePriceMinor: bigint;
  status: SubscriptionStatus;
  validFrom: Date;
  validTo: Date | null;
  allowances: PlanAllowance[];
}

export interface AddonInput {
  subscriptionAddonId: string;
  code: string;
  name: string;
  /** Snapshotted when attached; never the current catalog price. */
  unitPriceMinor: bigint;
  quantity: number;
  attachedAt: Date;
  detachedAt: Date | null;
}

export interface DeploymentInput {
  deploymentId: string;
  slug: string;
  subscriptionId: string | null;
  trialEndsAt: Date | null;
  segments: SegmentInput[];
  addons: AddonInput[];
  resourceHours: { resourceKind: string; hours: bigint }[];
  llm: { eventCount: number; chargeSum: string };
}

export interface QuoteInput {
  tenantId: string;
  currency: string;
  tax: { country: string; rate: string };
  period: { key: string; start: Date; end: Date };
  deployments: DeploymentInput[];
}

export interface QuoteLine {
  kind: LineKind;
  deploymentId: string | null;
  resourceKind: string | null;
  description: string;
  /** Exact decimal string. */
  quantity: string;
  /** Major units per unit of quantity, exact decimal string. */
  unitPrice: string;
  amountMinor: bigint;
}

export interface Quote {
  currency: string;
  lines: QuoteLine[];
  subtotalMinor: bigint;
  taxMinor: bigint;
  totalMinor: bigint;
  /** Milliseconds each deployment's subscription was billable in the period. */
  billableMs: Record<string, bigint>;
  /** True when some subscription was billable for part of the period: such a tenant gets an invoice. */
  billable: boolean;
}

interface Interval {
  from: number;
  to: number;
}

const HOUR_MS = 3_600_000n;

function clip(i: Interval, bounds: Interval): Interval | null {
  const from = Math.max(i.from, bounds.from);
  const to = Math.min(i.to, bounds.to);
  return to > from ? { from, to } : null;
}

function lengthOf(intervals: Interval[]): bigint {
  return intervals.reduce((sum, i) => sum + BigInt(i.to - i.from), 0n);
}

/** Billable stretches of one segment: active, inside the period, past any trial. */
function billableIntervals(segment: SegmentInput, period: Interval, trialEndsAt: Date | null): Interval[] {
  if (segment.status !== 'active') return [];
  const from = Math.max(segment.validFrom.getTime(), trialEndsAt?.getTime() ?? -Infinity);
  const to = segment.validTo?.getTime() ?? Infinity;
  const clipped = clip({ from, to }, period);
  return clipped ? [clipped] : [];
}

function hoursLabel(ms: bigint): string {
  return formatDecimal(ratioToDecimal(ms, HOUR_MS, 2));
}

function majorOfMinor(minor: bigint, currency: string): string {
  return formatMinorFast(minor, currency);
}

/** minor × numerator / denominator, rounded once. */
function prorate(minor: bigint, numerator: bigint, denominator: bigint): bigint {
  return numerator === denominator ? minor : divideHalfAwayFromZero(minor * numerator, denominator);
}

export function computeQuote(input: QuoteInput): Quote {
  const { currency } = input;
  exponentOf(currency); // unknown currency fails here, before any line is computed
  const period: Interval = { from: input.period.start.getTime(), to: input.period.end.getTime() };
  const periodMs = BigInt(period.to - period.from);
  const periodHours = hoursLabel(periodMs);
  const lines: QuoteLine[] = [];
  const billableMs: Record<string, bigint> = {};

  const deployments = [...input.deployments].sort((a, b) => a.slug.localeCompare(b.slug) || a.deploymentId.localeCompare(b.deploymentId));
  for (const d of deployments) {
    const segments = [...d.segments].sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
    const billable = segments.flatMap((s) => billableIntervals(s, period, d.trialEndsAt).map((i) => ({ segment: s, interval: i })));
    const deploymentBillableMs = lengthOf(billable.map((b) => b.interval));
    billableMs[d.deploymentId] = deploymentBillableMs;

    // plan_base: one line per plan version, for the hours that version was billable.
    const byVersion = new Map<string, { segment: SegmentInput; ms: bigint }>();
    for (const b of billable) {
      const entry = byVersion.get(b.segment.planVersionId) ?? { segment: b.segment, ms: 0n };
      entry.ms += BigInt(b.interval.to - b.interval.from);
      byVersion.set(b.segment.planVersionId, entry);
    }
    for (const { segment, ms } of byVersion.values()) {
      const full = ms === periodMs;
      lines.push({
        kind: 'plan_base',
        deploymentId: d.deploymentId,
        resourceKind: null,
        description: `Plan ${segment.planCode} v${segment.planVersion} (${d.slug})${full ? '' : `, prorated ${hoursLabel(ms)} of ${periodHours} h`}`,
        quantity: formatDecimal(ratioToDecimal(ms, periodMs, 6)),
        unitPrice: majorOfMinor(segment.basePriceMinor, currency),
        amountMinor: prorate(segment.basePriceMinor, ms, periodMs),
      });
    }

    // addon: snapshotted price × quantity, for the hours it was attached while billable.
    for (const addon of [...d.addons].sort((a, b) => a.code.localeCompare(b.code) || a.attachedAt.getTime() - b.attachedAt.getTime())) {
      const attached: Interval = { from: addon.attachedAt.getTime(), to: addon.detachedAt?.getTime() ?? Infinity };
      const ms = lengthOf(billable.map((b) => clip(b.interval, attached)).filter((i): i is Interval => i !== null));
      if (ms === 0n) continue;
      const full = ms === periodMs;
      const quantity = BigInt(addon.quantity);
      lines.push({
        kind: 'addon',
        deploymentId: d.deploymentId,
        resourceKind: null,
        description: `Add-on: ${addon.code}${addon.quantity > 1 ? ` × ${addon.quantity}` : ''} (${d.slug})${full ? '' : `, prorated ${hoursLabel(ms)} of ${periodHours} h`}`,
        quantity: formatDecimal(ratioToDecimal(quantity * ms, periodMs, 6)),
        unitPrice: majorOfMinor(addon.unitPriceMinor, currency),
        amountMinor: prorate(addon.unitPriceMinor * quantity, ms, periodMs),
      });
    }

    // overage: allowances of the plan version in force at the end of the period.
    const lastSegment = segments.filter((s) => clip({ from: s.validFrom.getTime(), to: s.validTo?.getTime() ?? Infinity }, period)).at(-1);
    if (lastSegment) {
      for (const usage of [...d.resourceHours].sort((a, b) => a.resourceKind.localeCompare(b.resourceKind))) {
        const allowance = lastSegment.allowances.find((a) => a.resourceKind === usage.resourceKind);
        if (!allowance) continue; // a kind the plan does not sell is not billed as overage
        const over = usage.hours - allowance.includedHours;
        if (over <= 0n) continue;
        const price = parseDecimal(allowance.overageUnitPrice);
        lines.push({
          kind: 'overage',
          deploymentId: d.deploymentId,
          resourceKind: usage.resourceKind,
          description: `Overage: ${usage.resourceKind} ${over} h over ${allowance.includedHours} h included (${d.slug})`,
          quantity: over.toString(),
          unitPrice: formatDecimal(trimDecimal(price)),
          amountMinor: majorTimesToMinor(price, over, currency),
        });
      }
    }

    // llm_usage: the exact sum of the gateway's charges, rounded once per deployment.
    if (d.llm.eventCount > 0) {
      const sum = trimDecimal(parseDecimal(d.llm.chargeSum));
      lines.push({
        kind: 'llm_usage',
        deploymentId: d.deploymentId,
        resourceKind: null,
        description: `LLM usage: ${d.llm.eventCount} request${d.llm.eventCount === 1 ? '' : 's'} (${d.slug})`,
        quantity: '1',
        unitPrice: formatDecimal(sum),
        amountMinor: majorToMinor(sum, currency),
      });
    }
  }

  // Plain bigint arithmetic (src/money's fast path, equal to the dinero compositions): a month close prices every line of every tenant.
  const subtotalMinor = lines.reduce((sum, l) => sum + l.amountMinor, 0n);
  const rate = trimDecimal(parseDecimal(input.tax.rate));
  const taxMinor = minorTimesToMinor(subtotalMinor, rate, currency);
  const percent = formatDecimal(trimDecimal({ amount: rate.amount * 100n, scale: rate.scale }));
  lines.push({
    kind: 'tax',
    deploymentId: null,
    resourceKind: null,
    description: `${input.tax.country === 'AU' ? 'GST' : 'Tax'} ${percent}% on ${majorOfMinor(subtotalMinor, currency)} ${currency}`,
    quantity: majorOfMinor(subtotalMinor, currency),
    unitPrice: formatDecimal(rate),
    amountMinor: taxMinor,
  });

  return {
    currency,
    lines,
    subtotalMinor,
    taxMinor,
    totalMinor: subtotalMinor + taxMinor,
    billableMs,
    billable: Object.values(billableMs).some((ms) => ms > 0n),
  };
}

/** The inputs with every list in a stable order (the order the canonical form and its hash see). */
function inStableOrder(input: QuoteInput): QuoteInput {
  return {
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
}

/** A stable JSON form of the inputs (bigints and dates as strings): stored with the invoice. */
export function canonicalInputs(input: QuoteInput): Record<string, unknown> {
  return JSON.parse(stableStringify(inStableOrder(input))) as Record<string, unknown>;
}

/**
 * A copy with every object's keys in sorted order and bigints and dates as strings (what JSON.stringify
 * with a bigint replacer writes for them), so that plain JSON.stringify of it is the stable text the
 * hash is taken over; JSON.stringify itself is native and far faster than concatenating in JS.
 * (The inputs' keys are names, never integer-like, so insertion order is the order JSON keeps.)
 */
function sortedPlain(value: unknown): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return value;
  }
  if (value instanceof Date) return value.toJSON();
  if (Array.isArray(value)) return value.map(sortedPlain);
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) out[key] = sortedPlain(record[key]);
  return out;
}

function stableStringify(value: unknown): string {
  return JSON.stringify(sortedPlain(value));
}

export function inputsHash(canonical: Record<string, unknown>): string {
  return createHash('sha256').update(stableStringify(canonical)).digest('hex');
}

const big = <T>(v: T): T | string => (typeof v === 'bigint' ? v.toString() : v);
const instant = <T>(v: T): T | string | null => (v instanceof Date ? v.toJSON() : v);

/**
 * The canonical inputs as stored with an invoice (plus the LLM event count) and their hash: the
 * same text as stableStringify of `{ ...canonicalInputs(input), llm_event_count }` (so stored hashes
 * stay valid; the quote engine's property test compares them on random inputs), written field by
 * field with keys in sorted order and one native JSON.stringify, because a month close does this
 * for every tenant. A field added to the inputs must be added here too (the test fails until it is).
 */
export function canonicalInputsJson(input: QuoteInput, llmEventCount: number): { json: string; hash: string } {
  const ordered = inStableOrder(input);
  const json = JSON.stringify({
    currency: ordered.currency,
    deployments: ordered.deployments.map((d) => ({
      addons: d.addons.map((a) => ({
        attachedAt: instant(a.attachedAt),
        code: a.code,
        detachedAt: instant(a.detachedAt),
        name: a.name,
        quantity: a.quantity,
        subscriptionAddonId: a.subscriptionAddonId,
        unitPriceMinor: big(a.unitPriceMinor),
      })),
      deploymentId: d.deploymentId,
      llm: { chargeSum: d.llm.chargeSum, eventCount: d.llm.eventCount },
      resourceHours: d.resourceHours.map((h) => ({ hours: big(h.hours), resourceKind: h.resourceKind })),
      segments: d.segments.map((s) => ({
        allowances: s.allowances.map((a) => ({ includedHours: big(a.includedHours), overageUnitPrice: a.overageUnitPrice, resourceKind: a.resourceKind })),
        basePriceMinor: big(s.basePriceMinor),
        planCode: s.planCode,
        planVersion: s.planVersion,
        planVersionId: s.planVersionId,
        status: s.status,
        validFrom: instant(s.validFrom),
        validTo: instant(s.validTo),
      })),
      slug: d.slug,
      subscriptionId: d.subscriptionId,
      trialEndsAt: instant(d.trialEndsAt),
    })),
    llm_event_count: llmEventCount,
    period: { end: instant(ordered.period.end), key: ordered.period.key, start: instant(ordered.period.start) },
    tax: { country: ordered.tax.country, rate: ordered.tax.rate },
    tenantId: ordered.tenantId,
  });
  return { json, hash: createHash('sha256').update(json).digest('hex') };
}
