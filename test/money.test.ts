// Pure tests of the exact-decimal and money helpers.
import { describe, expect, it } from 'vitest';
import {
  divideHalfAwayFromZero,
  exactAtScale,
  formatDecimal,
  formatDecimalAtLeast,
  parseDecimal,
  parseDecimalOrScientific,
  parseGroupedDecimal,
  roundHalfAwayFromZero,
  trimDecimal,
} from '../src/money/decimal.ts';
import { parseInstantDate } from '../src/time/instant.ts';
import fc from 'fast-check';
import {
  formatMinor,
  formatMinorFast,
  majorTimesToMinor,
  majorToMinor,
  minorTimesToMinor,
  moneyFromMajor,
  moneyFromMinor,
  moneyJson,
  multiplyExact,
  roundToMinor,
} from '../src/money/money.ts';

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

describe('the one decimal module: grouped amounts, exact scales, rounding once', () => {
  it('reads "$1,234.56" forms only where a dollar sign is allowed, and refuses bad grouping and double signs', () => {
    expect(parseGroupedDecimal('$1,234.56', { dollarSign: true })).toEqual({ amount: 123456n, scale: 2 });
    expect(parseGroupedDecimal('-$0.50', { dollarSign: true })).toEqual({ amount: -50n, scale: 2 });
    expect(parseGroupedDecimal('$-0.50', { dollarSign: true })).toEqual({ amount: -50n, scale: 2 });
    expect(parseGroupedDecimal('1,488')).toEqual({ amount: 1488n, scale: 0 });
    for (const bad of ['$1.00', '1,23.4', '-$-1', '--1', '1.', '.5', '1e3', '']) expect(parseGroupedDecimal(bad)).toBeNull();
  });

  it('rescales exactly or says it cannot, and rounds half away from zero once', () => {
    expect(exactAtScale(parseDecimal('1.230000000'), 6)).toBe(1_230_000n);
    expect(exactAtScale(parseDecimal('0.0000001'), 6)).toBeNull();
    expect(roundHalfAwayFromZero({ amount: 5_000n, scale: 4 }, 0)).toBe(1n);
    expect(roundHalfAwayFromZero({ amount: -5_000n, scale: 4 }, 0)).toBe(-1n);
    expect(roundHalfAwayFromZero({ amount: 4_999n, scale: 4 }, 0)).toBe(0n);
    expect(roundHalfAwayFromZero({ amount: 12n, scale: 1 }, 3)).toBe(1200n);
    expect(formatDecimalAtLeast({ amount: 5_000_000n, scale: 6 }, 2)).toBe('5.00');
    expect(formatDecimalAtLeast({ amount: -12_345_000n, scale: 6 }, 2)).toBe('-12.345');
  });
});

describe('the one instant parser', () => {
  it('reads the provider CSV forms when asked, always requiring an offset', () => {
    expect(parseInstantDate('2020-07-01 00:00:00 +0000', { spaced: true })?.toISOString()).toBe('2020-07-01T00:00:00.000Z');
    expect(parseInstantDate('2020-07-01 10:00:00.5 UTC', { spaced: true })?.toISOString()).toBe('2020-07-01T10:00:00.500Z');
    expect(parseInstantDate('2020-07-01T10:00:00+10:00', { spaced: true })?.toISOString()).toBe('2020-07-01T00:00:00.000Z');
    expect(parseInstantDate('2020-07-01 00:00:00 +0000')).toBeNull(); // strict by default
    expect(parseInstantDate('2020-07-01 00:00:00', { spaced: true })).toBeNull();
    expect(parseInstantDate('2020-02-30 00:00:00 +0000', { spaced: true })).toBeNull();
    expect(parseInstantDate('2025-03-01T12:00:00.001Z')?.getTime()).toBe(Date.UTC(2025, 2, 1, 12, 0, 0, 1)); // exact, not through a float
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

describe('money in plain bigints (the quote engine\'s hot path) equals the dinero compositions', () => {
  // Decimal exponents 0, 2, 3 and the base-5 currencies (which go through dinero).
  const currency = fc.constantFrom('AUD', 'USD', 'JPY', 'KWD', 'MGA', 'MRU');
  const big = fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n });
  const decimal = fc.record({ amount: big, scale: fc.integer({ min: 0, max: 14 }) });
  // Ties (…5 exactly at the rounding digit) are where half-away-from-zero differs from other rules.
  const tie = fc.tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 3, max: 12 })).map(([n, scale]) => ({ amount: n * 10n + 5n, scale }));
  const anyDecimal = fc.oneof(decimal, tie);
  const runs = { numRuns: 2000 };

  it('majorToMinor = roundToMinor(moneyFromMajor)', () => {
    fc.assert(fc.property(anyDecimal, currency, (d, c) => majorToMinor(d, c) === roundToMinor(moneyFromMajor(d, c))), runs);
  });

  it('majorTimesToMinor = roundToMinor(multiplyExact(moneyFromMajor, quantity))', () => {
    fc.assert(
      fc.property(anyDecimal, fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }), currency, (price, quantity, c) =>
        majorTimesToMinor(price, quantity, c) === roundToMinor(multiplyExact(moneyFromMajor(price, c), quantity)),
      ),
      runs,
    );
  });

  it('minorTimesToMinor = roundToMinor(multiplyExact(moneyFromMinor, factor))', () => {
    fc.assert(
      fc.property(big, anyDecimal, currency, (minor, factor, c) => minorTimesToMinor(minor, factor, c) === roundToMinor(multiplyExact(moneyFromMinor(minor, c), factor))),
      runs,
    );
  });

  it('formatMinorFast = formatMinor', () => {
    fc.assert(fc.property(big, fc.constantFrom('AUD', 'USD', 'JPY', 'KWD'), (minor, c) => formatMinorFast(minor, c) === formatMinor(minor, c)), runs);
    // dinero cannot write a base-5 currency as a decimal; neither can the fast path.
    expect(() => formatMinorFast(5n, 'MGA')).toThrow();
    expect(formatMinorFast(-5n, 'AUD')).toBe('-0.05');
    expect(formatMinorFast(12n, 'JPY')).toBe('12');
  });
});
