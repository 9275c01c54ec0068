// USD amounts on the cost side are exact micro-dollars (bigint) in code, NUMERIC(20,6) in the
// database and decimal strings in JSON. The arithmetic is src/money/decimal.ts's; nothing here goes
// through a JavaScript number, except the JSON integers of usdJson, which are checked to be exact.
import { exactAtScale, formatDecimalAtLeast, isDecimalString, parseDecimal } from '../money/decimal.ts';

const MICRO_SCALE = 6;
const MICROS_PER_CENT = 10_000n;

/** 12345000n → "12.345"; at least two decimals ("5.00"), trailing zeros beyond them dropped. */
export function microsToUsd(micros: bigint): string {
  return formatDecimalAtLeast({ amount: micros, scale: MICRO_SCALE }, 2);
}

/**
 * A decimal USD string (the provider's "23.44", PostgreSQL's NUMERIC text "23.440000") to exact
 * micros. Null when it is not a decimal or is finer than a micro-dollar: storing it in
 * NUMERIC(20,6) would round it silently.
 */
export function usdToMicros(value: string): bigint | null {
  return isDecimalString(value.trim(), Number.MAX_SAFE_INTEGER) ? exactAtScale(parseDecimal(value), MICRO_SCALE) : null;
}

export function requireUsdMicros(value: string, field: string): bigint {
  const micros = usdToMicros(value);
  if (micros === null) throw new RangeError(`${field}: ${JSON.stringify(value)} is not a USD amount exact to the micro-dollar`);
  return micros;
}

export interface UsdJson {
  /** Exact decimal string in USD, e.g. "12.345". */
  amount: string;
  /** Millionths of a USD, exact. */
  amount_micros: number;
  /** Cents, only when the amount is a whole number of cents; null otherwise. */
  amount_minor: number | null;
  currency: 'USD';
}

function exactInteger(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${value} exceeds the JSON safe integer range`);
  }
  return Number(value); // exact: checked above
}

export function usdJson(micros: bigint): UsdJson {
  return {
    amount: microsToUsd(micros),
    amount_micros: exactInteger(micros, 'amount_micros'),
    amount_minor: micros % MICROS_PER_CENT === 0n ? exactInteger(micros / MICROS_PER_CENT, 'amount_minor') : null,
    currency: 'USD',
  };
}

/** A NUMERIC column read as text (`amount::text`) in JSON. */
export function usdJsonFromNumeric(text: string): UsdJson {
  return usdJson(requireUsdMicros(text, 'amount'));
}
