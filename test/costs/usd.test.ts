// Pure: USD micros ⇄ decimal strings and the JSON money shape. No float anywhere.
import { describe, expect, it } from 'vitest';
import { microsToUsd, usdJson, usdJsonFromNumeric, usdToMicros } from '../../src/costs/usd.ts';

describe('USD amounts', () => {
  it('formats micros exactly, with at least two decimals', () => {
    expect(microsToUsd(5_000_000n)).toBe('5.00');
    expect(microsToUsd(12_345_000n)).toBe('12.345');
    expect(microsToUsd(1n)).toBe('0.000001');
    expect(microsToUsd(-1_000_000n)).toBe('-1.00');
    expect(microsToUsd(-333_300n)).toBe('-0.3333');
    expect(microsToUsd(123_456_789_012_345_678n)).toBe('123456789012.345678');
  });

  it('reads provider and NUMERIC decimal strings, refusing what a micro-dollar cannot hold', () => {
    expect(usdToMicros('23.44')).toBe(23_440_000n);
    expect(usdToMicros('23.440000')).toBe(23_440_000n);
    expect(usdToMicros('-0.5')).toBe(-500_000n);
    expect(usdToMicros('7')).toBe(7_000_000n);
    expect(usdToMicros('0.0000001')).toBeNull();
    expect(usdToMicros('1e3')).toBeNull();
    expect(usdToMicros('$1.00')).toBeNull();
    expect(usdToMicros('1,000.00')).toBeNull();
  });

  it('gives cents only when the amount is a whole number of cents', () => {
    expect(usdJson(12_340_000n)).toEqual({ amount: '12.34', amount_micros: 12_340_000, amount_minor: 1234, currency: 'USD' });
    expect(usdJson(12_345_000n)).toEqual({ amount: '12.345', amount_micros: 12_345_000, amount_minor: null, currency: 'USD' });
    expect(usdJsonFromNumeric('-1.000000')).toEqual({ amount: '-1.00', amount_micros: -1_000_000, amount_minor: -100, currency: 'USD' });
    expect(() => usdJson(2n ** 53n)).toThrow(RangeError);
  });
});
