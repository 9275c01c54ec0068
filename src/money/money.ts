// Money is dinero.js's bigint build: integer minor units plus a currency, rounded only where a
// caller names halfAwayFromZero (dinero's default scale change rounds down).
import {
  dinero,
  add,
  multiply,
  toDecimal,
  toSnapshot,
  transformScale,
  halfAwayFromZero,
  type Dinero,
  type DineroCurrency,
} from 'dinero.js/bigint';
import * as currencies from 'dinero.js/bigint/currencies';
import { divideHalfAwayFromZero, formatDecimal, rescale, roundDecimal, type ScaledDecimal } from './decimal.ts';

export type Money = Dinero<bigint, string>;
export type Currency = DineroCurrency<bigint, string>;

export function currencyOf(code: string): Currency {
  const currency = (currencies as Record<string, Currency | undefined>)[code];
  if (!currency) throw new RangeError(`unknown ISO 4217 currency: ${code}`);
  return currency;
}

export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && (currencies as Record<string, unknown>)[code] !== undefined;
}

export function exponentOf(code: string): number {
  return Number(currencyOf(code).exponent);
}

export function moneyFromMinor(minor: bigint, code: string): Money {
  return dinero({ amount: minor, currency: currencyOf(code) });
}

/** An exact amount in major units (e.g. "0.00125" AUD), not yet rounded. */
export function moneyFromMajor(amount: ScaledDecimal, code: string): Money {
  const currency = currencyOf(code);
  const scale = Math.max(amount.scale, Number(currency.exponent));
  return dinero({ amount: rescale(amount, scale), currency, scale: BigInt(scale) });
}

/** Rounds once to the currency's minor unit, half away from zero, and returns minor units. */
export function roundToMinor(money: Money): bigint {
  const snapshot = toSnapshot(money);
  const rounded = transformScale(money, snapshot.currency.exponent, halfAwayFromZero);
  return toSnapshot(rounded).amount;
}

export function minorOf(money: Money): bigint {
  const snapshot = toSnapshot(money);
  if (snapshot.scale !== snapshot.currency.exponent) throw new RangeError('amount is not in minor units; round it first');
  return snapshot.amount;
}

export function sumMinor(amounts: bigint[], code: string): bigint {
  return minorOf(amounts.map((a) => moneyFromMinor(a, code)).reduce((a, b) => add(a, b), moneyFromMinor(0n, code)));
}

/** amount × factor, exact (no rounding). */
export function multiplyExact(money: Money, factor: ScaledDecimal | bigint): Money {
  return multiply(money, typeof factor === 'bigint' ? factor : { amount: factor.amount, scale: BigInt(factor.scale) });
}

/** "70.64" for 7064 AUD minor units. */
export function formatMinor(minor: bigint, code: string): string {
  return toDecimal(moneyFromMinor(minor, code));
}

// The same arithmetic in plain bigints, for hot loops (the quote engine prices every line of every
// tenant of a month close): no dinero object per line. Each one equals the dinero composition named
// in its comment for every input (test/money.test.ts proves it on random inputs); a currency whose
// minor unit is not a power of ten (MGA, MRU: base 5) goes through dinero itself.

const decimalExponents = new Map<string, number | null>();

/** The currency's exponent when its minor unit is 10^-exponent of the major one, else null. */
function decimalExponent(code: string): number | null {
  let exponent = decimalExponents.get(code);
  if (exponent === undefined) {
    const currency = currencyOf(code);
    exponent = currency.base === 10n ? Number(currency.exponent) : null;
    decimalExponents.set(code, exponent);
  }
  return exponent;
}

/** roundToMinor(moneyFromMajor(amount, code)): an exact major amount rounded once to minor units, half away from zero. */
export function majorToMinor(amount: ScaledDecimal, code: string): bigint {
  const exponent = decimalExponent(code);
  return exponent === null ? roundToMinor(moneyFromMajor(amount, code)) : roundDecimal(amount, exponent);
}

/** roundToMinor(multiplyExact(moneyFromMajor(price, code), quantity)): price × quantity, rounded once. */
export function majorTimesToMinor(price: ScaledDecimal, quantity: bigint, code: string): bigint {
  const exponent = decimalExponent(code);
  return exponent === null
    ? roundToMinor(multiplyExact(moneyFromMajor(price, code), quantity))
    : roundDecimal({ amount: price.amount * quantity, scale: price.scale }, exponent);
}

/** roundToMinor(multiplyExact(moneyFromMinor(minor, code), factor)): minor units × an exact factor, rounded once. */
export function minorTimesToMinor(minor: bigint, factor: ScaledDecimal, code: string): bigint {
  const exponent = decimalExponent(code);
  if (exponent === null) return roundToMinor(multiplyExact(moneyFromMinor(minor, code), factor));
  return factor.scale === 0 ? minor * factor.amount : divideHalfAwayFromZero(minor * factor.amount, 10n ** BigInt(factor.scale));
}

/** formatMinor(minor, code) ("70.64" for 7064 AUD minor units). */
export function formatMinorFast(minor: bigint, code: string): string {
  const exponent = decimalExponent(code);
  return exponent === null ? formatMinor(minor, code) : formatDecimal({ amount: minor, scale: exponent });
}

export interface MoneyJson {
  /** A JSON integer; a decimal string only beyond ±(2^53 − 1), where a JSON number would lose digits. */
  amount_minor: number | string;
  currency: string;
  formatted: string;
}

/**
 * Money in JSON: integer minor units plus currency plus a formatted decimal string. Safe for any
 * amount the database can hold: past the JSON safe-integer range amount_minor becomes an exact
 * decimal string rather than a rounded number (or an error).
 */
export function moneyJson(minor: bigint, code: string): MoneyJson {
  const n = Number(minor);
  return { amount_minor: Number.isSafeInteger(n) ? n : minor.toString(), currency: code, formatted: formatMinorFast(minor, code) };
}
