// Pure tests of the exact-decimal and money helpers.
import { describe, expect, it } from 'vitest';
import { divideHalfAwayFromZero, formatDecimal, parseDecimal, parseDecimalOrScientific, trimDecimal } from '../src/money/decimal.ts';
import { formatMinor, moneyFromMajor, moneyJson, roundToMinor } from '../src/money/money.ts';

describe('exact decimals', () => {
  it('reads plain and exponent forms exactly', () => {
    expect(formatDecimal(parseDecimalOrScientific('1e-12'))).toBe('0.000000000001');
    expect(formatDecimal(parseDecimalOrScientific('1.5e+21'))).toBe('1500000000000000000000');
    expect(formatDecimal(trimDecimal(parseDecimalOrScientific('0.010000')))).toBe('0.01');
    expect(() => parseDecimal('1e-12')).toThrow(RangeError);
  });

  it('divides rounding half away from zero', () => {
    expect(divideHalfAwayFromZero(5n, 2n)).toBe(3n);
    expect(divideHalfAwayFromZero(-5n, 2n)).toBe(-3n);
    expect(divideHalfAwayFromZero(49n, 10n)).toBe(5n);
    expect(divideHalfAwayFromZero(44n, 10n)).toBe(4n);
    expect(divideHalfAwayFromZero(5n, -2n)).toBe(-3n);
  });
});

describe('money', () => {
  it('rounds once to minor units, half away from zero, and formats per currency', () => {
    expect(roundToMinor(moneyFromMajor(parseDecimal('0.005'), 'AUD'))).toBe(1n);
    expect(roundToMinor(moneyFromMajor(parseDecimal('-0.005'), 'AUD'))).toBe(-1n);
    expect(roundToMinor(moneyFromMajor(parseDecimal('0.004999999999'), 'AUD'))).toBe(0n);
    expect(roundToMinor(moneyFromMajor(parseDecimal('12.5'), 'JPY'))).toBe(13n);
    expect(formatMinor(7064n, 'AUD')).toBe('70.64');
    expect(moneyJson(7064n, 'AUD')).toEqual({ amount_minor: 7064, currency: 'AUD', formatted: '70.64' });
    // Beyond the JSON safe-integer range the amount stays exact, as a string (never a 500).
    expect(moneyJson(2n ** 60n, 'AUD')).toEqual({ amount_minor: '1152921504606846976', currency: 'AUD', formatted: '11529215046068469.76' });
    expect(moneyJson(-(2n ** 53n), 'AUD').amount_minor).toBe('-9007199254740992');
    expect(moneyJson(2n ** 53n - 1n, 'AUD').amount_minor).toBe(9007199254740991);
  });
});
