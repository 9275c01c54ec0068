// What a forced re-run changes on an invoice that may no longer change (pure). An issued or paid
// invoice stays as it was; what it now bills is its lines plus the deltas of its adjustment notes.
// A new quote that differs from that becomes the next adjustment note: one line per changed
// invoice line, the subtotal delta, GST on the delta (rate × delta, rounded once, half away from
// zero) and the total delta. When invoice plus notes already equal the quote, there is nothing to
// adjust, which is what makes a second identical forced run issue nothing.
import { parseDecimal, trimDecimal } from '../money/decimal.ts';
import { moneyFromMinor, multiplyExact, roundToMinor } from '../money/money.ts';
import type { Quote, QuoteLine } from './quote-engine.ts';

export interface BilledLine {
  kind: string;
  deployment_id: string | null;
  resource_kind: string | null;
  description: string;
  quantity: string;
  unit_price: string;
  amount: bigint;
}

/** A changed line of an adjustment note: its key, description, old and new amounts and the delta. */
export type NoteLineDelta = Omit<BilledLine, 'amount'> & { line_key: string; old_amount: bigint; new_amount: bigint; delta: bigint };

export interface Adjustment {
  lines: NoteLineDelta[];
  subtotalDelta: bigint;
  taxDelta: bigint;
  totalDelta: bigint;
}

/**
 * Lines are matched by what they bill, not by wording that carries hours or counts: kind,
 * deployment, resource kind and, for plan and add-on lines, the item ("Plan studio v1").
 */
export function lineKey(l: { kind: string; deployment_id: string | null; resource_kind: string | null; description: string }): string {
  const item = l.kind === 'plan_base' || l.kind === 'addon' ? l.description.split(/ \(|,/)[0] : '';
  return [l.kind, l.deployment_id ?? '', l.resource_kind ?? '', item].join('|');
}

export function quoteLines(quote: Quote): BilledLine[] {
  return quote.lines.filter((l) => l.kind !== 'tax').map(billedLine);
}

/** A quote line in the stored lines' shape. */
export function billedLine(l: QuoteLine): BilledLine {
  return {
    kind: l.kind,
    deployment_id: l.deploymentId,
    resource_kind: l.resourceKind,
    description: l.description,
    quantity: l.quantity,
    unit_price: l.unitPrice,
    amount: l.amountMinor,
  };
}

/** The invoice's lines (tax excluded) with every note's deltas applied, by line key. */
export function effectiveLines(invoiceLines: BilledLine[], notes: { line_key: string; delta: bigint; description: string; kind: string; deployment_id: string | null; resource_kind: string | null; quantity: string; unit_price: string }[][]): Map<string, BilledLine> {
  const lines = new Map<string, BilledLine>();
  for (const l of invoiceLines) {
    if (l.kind === 'tax') continue;
    const key = lineKey(l);
    const prior = lines.get(key);
    lines.set(key, prior ? { ...prior, amount: prior.amount + l.amount } : { ...l });
  }
  for (const note of notes) {
    for (const d of note) {
      const prior = lines.get(d.line_key);
      lines.set(d.line_key, {
        kind: d.kind,
        deployment_id: d.deployment_id,
        resource_kind: d.resource_kind,
        description: d.description,
        quantity: d.quantity,
        unit_price: d.unit_price,
        amount: (prior?.amount ?? 0n) + d.delta,
      });
    }
  }
  return lines;
}

/** The adjustment that brings `billed` to `quote`, or null when they already agree. */
export function adjustmentFor(billed: Map<string, BilledLine>, quote: Quote, taxRate: string): Adjustment | null {
  const next = new Map<string, BilledLine>();
  for (const l of quoteLines(quote)) {
    const key = lineKey(l);
    const prior = next.get(key);
    next.set(key, prior ? { ...prior, amount: prior.amount + l.amount } : l);
  }
  const lines: NoteLineDelta[] = [];
  for (const key of [...new Set([...billed.keys(), ...next.keys()])]) {
    const before = billed.get(key);
    const after = next.get(key);
    const oldAmount = before?.amount ?? 0n;
    const newAmount = after?.amount ?? 0n;
    if (oldAmount === newAmount) continue;
    const ref = after ?? before!;
    lines.push({
      line_key: key,
      kind: ref.kind,
      deployment_id: ref.deployment_id,
      resource_kind: ref.resource_kind,
      description: after ? after.description : `${before!.description} (no longer billed)`,
      quantity: after ? after.quantity : '0',
      unit_price: ref.unit_price,
      old_amount: oldAmount,
      new_amount: newAmount,
      delta: newAmount - oldAmount,
    });
  }
  if (lines.length === 0) return null;
  const subtotalDelta = lines.reduce((sum, l) => sum + l.delta, 0n);
  const taxDelta = gstOn(subtotalDelta, taxRate, quote.currency);
  return { lines, subtotalDelta, taxDelta, totalDelta: subtotalDelta + taxDelta };
}

/** GST on an amount (a delta may be negative): rate × amount, rounded once, half away from zero. */
export function gstOn(amountMinor: bigint, rate: string, currency: string): bigint {
  return roundToMinor(multiplyExact(moneyFromMinor(amountMinor, currency), trimDecimal(parseDecimal(rate))));
}
