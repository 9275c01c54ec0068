// The one exact-decimal module: decimals as scaled bigints ({ amount, scale } means
// amount / 10^scale), the shape dinero.js takes for multipliers. Parsing (plain, exponent, and the
// provider's "$1,234.56" forms), formatting, exact rescaling and the one rounding rule (half away
// from zero) live here; money.ts builds on it with dinero.js, and the cost side's micro-dollar
// conversions (src/costs/usd.ts, invoice-csv.ts) call these functions instead of their own.
export interface ScaledDecimal {
  amount: bigint;
  scale: number;
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

export function isDecimalString(value: string, maxFractionDigits = 12): boolean {
  const m = DECIMAL.exec(value);
  return m !== null && (m[3] ?? '').length <= maxFractionDigits;
}

export function parseDecimal(value: string): ScaledDecimal {
  const m = DECIMAL.exec(value.trim());
  if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(value)}`);
  const fraction = m[3] ?? '';
  const amount = BigInt(`${m[2]}${fraction}`);
  return { amount: m[1] ? -amount : amount, scale: fraction.length };
}

const SCIENTIFIC = /^(-?\d+(?:\.\d+)?)e([+-]?\d+)$/i;

/**
 * Also accepts the exponent form a decimal library prints for very small or large values
 * ("1e-12", "1.5e+21"), exactly: the exponent only moves the scale.
 */
export function parseDecimalOrScientific(value: string): ScaledDecimal {
  const m = SCIENTIFIC.exec(value.trim());
  if (!m) return parseDecimal(value);
  const mantissa = parseDecimal(m[1]!);
  const exponent = Number.parseInt(m[2]!, 10);
  const scale = mantissa.scale - exponent;
  return scale >= 0 ? { amount: mantissa.amount, scale } : { amount: mantissa.amount * 10n ** BigInt(-scale), scale: 0 };
}

export function formatDecimal(d: ScaledDecimal): string {
  const negative = d.amount < 0n;
  const digits = (negative ? -d.amount : d.amount).toString().padStart(d.scale + 1, '0');
  const whole = digits.slice(0, digits.length - d.scale);
  const fraction = d.scale > 0 ? `.${digits.slice(digits.length - d.scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** Removes trailing fractional zeros: 1.2500 → 1.25. */
export function trimDecimal(d: ScaledDecimal): ScaledDecimal {
  let { amount, scale } = d;
  while (scale > 0 && amount % 10n === 0n) {
    amount /= 10n;
    scale -= 1;
  }
  return { amount, scale };
}

// Sign before or after the `$` (`-$1.00`, `$-1.00`), optional `$`, optional well-formed
// thousands separators, optional fraction.
const GROUPED_AMOUNT = /^(-?)(\$?)(-?)((?:\d{1,3}(?:,\d{3})+)|\d+)(?:\.(\d+))?$/;

/**
 * A decimal as people and providers write it: optional `$` (with the sign either side of it) and
 * thousands separators ("$1,234.56", "-$0.50", "1,488"). Null when it is not one.
 */
export function parseGroupedDecimal(raw: string, options: { dollarSign?: boolean } = {}): ScaledDecimal | null {
  const m = GROUPED_AMOUNT.exec(raw.trim());
  if (!m) return null;
  const [, signBefore, dollar, signAfter, whole, fraction = ''] = m;
  if (dollar && !options.dollarSign) return null;
  if (signBefore && signAfter) return null; // "-$-1.00"
  if (signAfter && !dollar) return null; // "--1"
  const amount = BigInt(`${whole!.replaceAll(',', '')}${fraction}`);
  return { amount: signBefore || signAfter ? -amount : amount, scale: fraction.length };
}

/** `d` as an integer count of 10^-scale units when that is exact (1.2300 at scale 2 → 123n); null when digits would be lost. */
export function exactAtScale(d: ScaledDecimal, scale: number): bigint | null {
  try {
    return rescale(d, scale);
  } catch {
    return null;
  }
}

/** Rounds `d` to `scale` digits once, half away from zero, as an integer count of 10^-scale units. */
export function roundHalfAwayFromZero(d: ScaledDecimal, scale: number): bigint {
  if (scale >= d.scale) return rescale(d, scale);
  return divideHalfAwayFromZero(d.amount, 10n ** BigInt(d.scale - scale));
}

/** The decimal with trailing zeros dropped, but at least `minFractionDigits` decimals ("5.00", "12.345"). */
export function formatDecimalAtLeast(d: ScaledDecimal, minFractionDigits: number): string {
  const trimmed = trimDecimal(d);
  return formatDecimal(trimmed.scale >= minFractionDigits ? trimmed : { amount: rescale(trimmed, minFractionDigits), scale: minFractionDigits });
}

/** Brings a decimal to `scale` digits; only ever widens or is exact (throws rather than rounding). */
export function rescale(d: ScaledDecimal, scale: number): bigint {
  if (scale >= d.scale) return d.amount * 10n ** BigInt(scale - d.scale);
  const factor = 10n ** BigInt(d.scale - scale);
  if (d.amount % factor !== 0n) throw new RangeError(`rescale would lose precision: ${formatDecimal(d)} to ${scale} digits`);
  return d.amount / factor;
}

/** numerator / denominator rounded half away from zero to an integer. */
export function divideHalfAwayFromZero(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) return divideHalfAwayFromZero(-numerator, -denominator);
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  const q = (2n * n + denominator) / (2n * denominator);
  return negative ? -q : q;
}

/** A ratio as a decimal with `scale` digits (for display: quantities such as 0.5 of a month). */
export function ratioToDecimal(numerator: bigint, denominator: bigint, scale = 6): ScaledDecimal {
  return trimDecimal({ amount: divideHalfAwayFromZero(numerator * 10n ** BigInt(scale), denominator), scale });
}

/** a + b, exact. */
export function addDecimal(a: ScaledDecimal, b: ScaledDecimal): ScaledDecimal {
  const scale = Math.max(a.scale, b.scale);
  return { amount: rescale(a, scale) + rescale(b, scale), scale };
}

/** a × b, exact. */
export function multiplyDecimal(a: ScaledDecimal, b: ScaledDecimal): ScaledDecimal {
  return { amount: a.amount * b.amount, scale: a.scale + b.scale };
}

/** Rounds to `scale` digits once, half away from zero, and returns the scaled integer (minor units for a currency's exponent). */
export function roundDecimal(d: ScaledDecimal, scale: number): bigint {
  if (scale >= d.scale) return rescale(d, scale);
  return divideHalfAwayFromZero(d.amount, 10n ** BigInt(d.scale - scale));
}

/** numerator / denominator × 100, rounded once to `scale` digits, half away from zero; null when the denominator is 0. */
export function percentOf(numerator: ScaledDecimal, denominator: ScaledDecimal, scale = 1): ScaledDecimal | null {
  if (denominator.amount === 0n) return null;
  const common = Math.max(numerator.scale, denominator.scale);
  const n = rescale(numerator, common) * 100n * 10n ** BigInt(scale);
  return { amount: divideHalfAwayFromZero(n, rescale(denominator, common)), scale };
}
