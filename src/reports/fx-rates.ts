// Exchange rates per period: 1 `from` = `rate` `to`, exact. A rate is recorded once per period and
// pair, as a ledger does: posting the same rate again is `unchanged` (200, nothing written); a
// different rate is a 409 naming the recorded one, because reports already read from it would
// otherwise change under their readers' feet.
import { Prisma } from '../generated/prisma/client.ts';
import type { Db } from '../platform/database.ts';
import { ConflictError } from '../platform/errors.ts';
import { formatDecimal, parseDecimalOrScientific, trimDecimal } from '../money/decimal.ts';
import type { Period } from '../invoicing/period.ts';
import { periodOf } from '../invoicing/period.ts';

export interface FxRateJson {
  period: string;
  from: string;
  to: string;
  rate: string;
  recorded_by: string;
  created_at: string;
}

interface FxRateRow {
  period_start: Date;
  from_currency: string;
  to_currency: string;
  rate: string;
  recorded_by: string;
  created_at: Date;
}

const plain = (rate: string) => formatDecimal(trimDecimal(parseDecimalOrScientific(rate)));

function rateJson(row: FxRateRow): FxRateJson {
  return {
    period: periodOf(row.period_start).key,
    from: row.from_currency,
    to: row.to_currency,
    rate: plain(row.rate),
    recorded_by: row.recorded_by,
    created_at: row.created_at.toISOString(),
  };
}

export async function recordFxRate(
  db: Db,
  input: { period: Period; from: string; to: string; rate: string },
  actor: string,
): Promise<{ status: 'created' | 'unchanged'; fx_rate: FxRateJson }> {
  const inserted = await db.$queryRaw<FxRateRow[]>`
    INSERT INTO fx_rates (period_start, from_currency, to_currency, rate, recorded_by)
    VALUES (${input.period.start}::timestamptz, ${input.from}, ${input.to}, ${input.rate}::numeric, ${actor})
    ON CONFLICT (period_start, from_currency, to_currency) DO NOTHING
    RETURNING period_start, from_currency::text, to_currency::text, rate::text, recorded_by, created_at`;
  if (inserted[0]) return { status: 'created', fx_rate: rateJson(inserted[0]) };
  const [existing] = await db.$queryRaw<(FxRateRow & { same: boolean })[]>`
    SELECT period_start, from_currency::text, to_currency::text, rate::text, recorded_by, created_at, rate = ${input.rate}::numeric AS same
      FROM fx_rates WHERE period_start = ${input.period.start}::timestamptz AND from_currency = ${input.from} AND to_currency = ${input.to}`;
  if (!existing) throw new Error('fx rate vanished between insert and read');
  if (existing.same) return { status: 'unchanged', fx_rate: rateJson(existing) };
  throw new ConflictError('fx_rate_conflict', `${input.from}→${input.to} for ${input.period.key} is already recorded as ${plain(existing.rate)}`, {
    field: 'rate',
    details: { recorded: rateJson(existing) },
  });
}

export async function listFxRates(db: Db, filter: { period?: Period | undefined }): Promise<FxRateJson[]> {
  const rows = await db.$queryRaw<FxRateRow[]>`
    SELECT period_start, from_currency::text, to_currency::text, rate::text, recorded_by, created_at FROM fx_rates
     WHERE ${filter.period ? Prisma.sql`period_start = ${filter.period.start}::timestamptz` : Prisma.sql`true`}
     ORDER BY period_start DESC, from_currency, to_currency`;
  return rows.map(rateJson);
}

/** The recorded rates of a period, keyed `FROM>TO`, as exact decimal strings. */
export async function ratesOf(db: Db, period: Period): Promise<Map<string, string>> {
  const rows = await db.$queryRaw<{ from_currency: string; to_currency: string; rate: string }[]>`
    SELECT from_currency::text, to_currency::text, rate::text FROM fx_rates WHERE period_start = ${period.start}::timestamptz`;
  return new Map(rows.map((r) => [`${r.from_currency}>${r.to_currency}`, r.rate]));
}
