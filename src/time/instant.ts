// The one ISO 8601 timestamp parser: an instant with a mandatory offset, never a wall-clock time
// whose zone we would have to guess. Used for LLM usage events (strict RFC 3339 forms) and the
// provider's invoice CSV (which writes "2020-07-01 00:00:00 +0000").
//
// date-fns checks the calendar (isExists); its parseISO does not fit the parse itself: it accepts
// offset-less times as local time and date-only forms, and reads fractional seconds through a
// float (".001" can come out as 0 ms), where an instant must be exact to the millisecond.
import { isExists } from 'date-fns';

// Date, `T`, time with seconds, optional fraction ([.,], any digits; truncated to milliseconds),
// then `Z` or ±hh[[:]mm]. Case-insensitive (`t`, `z`).
const STRICT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/i;
// The provider's forms: also a space instead of `T`, a space before the offset, and `UTC`.
const SPACED = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(?:(Z|UTC)|([+-])(\d{2})(?::?(\d{2}))?)$/i;

/**
 * The instant `value` names, or null when it is not a timestamp with an offset or names no real
 * date or time (2025-02-30, 24:00:00, +24:00). Sub-millisecond digits are truncated: instants are
 * stored as TIMESTAMPTZ(3). `spaced` also accepts the provider CSV's forms.
 */
export function parseInstantDate(value: string, options: { spaced?: boolean } = {}): Date | null {
  const m = (options.spaced ? SPACED : STRICT).exec(options.spaced ? value.trim() : value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number.parseInt(part ?? '', 10)) as [number, number, number, number, number, number];
  const millis = Number.parseInt((m[7] ?? '').slice(0, 3).padEnd(3, '0'), 10);
  const offsetHours = m[8] ? 0 : Number.parseInt(m[10] ?? '0', 10);
  const offsetMinutes = m[8] ? 0 : Number.parseInt(m[11] ?? '0', 10);
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  if (!isExists(year, month - 1, day)) return null; // 2025-02-30, month 13
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day); // setUTCFullYear, not Date.UTC: years 0-99 stay as written
  local.setUTCHours(hour, minute, second, millis);
  const sign = m[9] === '-' ? -1 : 1;
  const instant = new Date(local.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
  const utcYear = instant.getUTCFullYear();
  if (Number.isNaN(utcYear) || utcYear < 1 || utcYear > 9999) return null;
  return instant;
}

/** The instant as a canonical UTC string with milliseconds ("2025-03-01T00:00:00.000Z"), or null. */
export function parseInstant(value: string): string | null {
  return parseInstantDate(value)?.toISOString() ?? null;
}
