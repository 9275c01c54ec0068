// The one ISO 8601 timestamp parser: an instant with a mandatory offset, never a wall-clock time
// whose zone we would have to guess. Used for LLM usage events (strict RFC 3339 forms) and the
// provider's invoice CSV (which writes "2020-07-01 00:00:00 +0000").
//
// date-fns's parseISO does not fit: it accepts offset-less times as local time and date-only forms,
// and reads fractional seconds through a float (".001" can come out as 0 ms), where an instant must
// be exact to the millisecond.

// Date, `T`, time with seconds, optional fraction ([.,], any digits; truncated to milliseconds),
// then `Z` or ±hh[[:]mm]. Case-insensitive (`t`, `z`).
const STRICT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/i;
// The provider's forms: also a space instead of `T`, a space before the offset, and `UTC`.
const SPACED = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(?:(Z|UTC)|([+-])(\d{2})(?::?(\d{2}))?)$/i;

/**
 * The instant `value` names, or null when it is not a timestamp with an offset or names no real
 * date or time (2025-02-30, 24:00:00, +24:00). Sub-millisecond digits are truncated: instants are
 * stored as TIMESTAMPTZ(3). `spaced` also accepts the provider CSV's forms. Years before 100 are
 * refused (as date-fns isExists, which this replaced, refused them) and so are instants outside
 * years 1-9999 in UTC. The intake parses one per LLM event, so it allocates no more than it must
 * (test/usage/llm-event.test.ts checks it against the isExists version on random input).
 */
export function parseInstantDate(value: string, options: { spaced?: boolean } = {}): Date | null {
  const m = (options.spaced ? SPACED : STRICT).exec(options.spaced ? value.trim() : value);
  if (!m) return null;
  // Every group here is ASCII digits (the regexes have no `u` flag), so Number() reads them as parseInt would.
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offsetHours = m[8] || m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[8] || m[11] === undefined ? 0 : Number(m[11]);
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null; // 2025-02-30, month 13
  const sign = m[9] === '-' ? -1 : 1;
  // Date.UTC reads years 0-99 as 1900-1999; they were refused above.
  const instant = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
  const utcYear = instant.getUTCFullYear();
  if (Number.isNaN(utcYear) || utcYear < 1 || utcYear > 9999) return null;
  return instant;
}

/** Days in a month (1-12) of the proleptic Gregorian calendar, as Date counts them. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The instant as a canonical UTC string with milliseconds ("2025-03-01T00:00:00.000Z"), or null. */
export function parseInstant(value: string): string | null {
  return parseInstantDate(value)?.toISOString() ?? null;
}
