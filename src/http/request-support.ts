// Helpers shared by the HTTP routes of the admin domains (tenants, catalog, deployments,
// subscriptions, resources): request schemas for ids, instants, decimals and pages; JSON
// conversions; the unique-violation test.
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { Prisma } from '../platform/database.ts';
import { authorize } from './app.ts';
import { isCurrencyCode } from '../money/money.ts';
import { formatDecimal, parseDecimalOrScientific, trimDecimal } from '../money/decimal.ts';

// ---------------------------------------------------------------------------------------------
// Request schemas

/** A uuid as Postgres accepts it (any 8-4-4-4-12 hex, not only RFC variants). */
export const uuid = z.guid({ error: 'must be a uuid' });

export const idParams = z.object({ id: uuid });

/** ISO 8601 with an explicit offset (Z or ±hh:mm), parsed to a Date (millisecond precision, as stored). */
export const instant = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset, e.g. 2026-11-01T00:00:00Z' })
  .describe('ISO 8601 date-time with an offset (Z or ±hh:mm); stored to the millisecond')
  .transform((s) => new Date(s));

export const currencyCode = z
  .string()
  .refine(isCurrencyCode, { error: 'must be an ISO 4217 currency code in upper case, e.g. AUD' })
  .describe('ISO 4217 currency code, e.g. AUD');

/** A lower-case identifier: letters, digits and hyphens, starting with a letter or digit. */
export const slug = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'must be lower case letters, digits and hyphens, starting with a letter or digit' });

/** A catalog code (plan, add-on): like a slug but underscores are allowed too. */
export const code = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'must be lower case letters, digits, hyphens or underscores' });

/** A non-negative amount in minor units, as a JSON integer (safe range). */
export const minorAmount = z
  .int({ error: 'must be an integer number of minor units' })
  .min(0)
  .describe('integer minor units of the currency (cents): 4900 = 49.00');

/**
 * A non-negative exact decimal string ("0.01"), at most `integerDigits` digits before the point
 * and `fractionDigits` after it (the column's precision: anything longer would be rounded or rejected by Postgres).
 */
export function nonNegativeDecimal(options: { fractionDigits: number; integerDigits: number }) {
  const pattern = /^(\d+)(?:\.(\d+))?$/;
  return z
    .string()
    .describe(`exact non-negative decimal string, up to ${options.fractionDigits} fractional digits, e.g. "0.01"`)
    .superRefine((value, ctx) => {
      const m = pattern.exec(value);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'must be a non-negative decimal string such as "0.01"' });
        return;
      }
      if ((m[2] ?? '').length > options.fractionDigits) {
        ctx.addIssue({ code: 'custom', message: `must have at most ${options.fractionDigits} fractional digits` });
      }
      if (m[1]!.replace(/^0+(?=\d)/, '').length > options.integerDigits) {
        ctx.addIssue({ code: 'custom', message: `must have at most ${options.integerDigits} digits before the decimal point` });
      }
    });
}

// ---------------------------------------------------------------------------------------------
// Keyset pagination on (created_at, id): stable under inserts, no offsets.

export interface PageCursor {
  createdAt: Date;
  id: string;
}

const cursorShape = z.object({ t: z.iso.datetime(), id: uuid });

export function encodeCursor(row: PageCursor): string {
  return Buffer.from(JSON.stringify({ t: row.createdAt.toISOString(), id: row.id })).toString('base64url');
}

function decodeCursor(value: string): PageCursor | null {
  try {
    const parsed = cursorShape.safeParse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return parsed.success ? { createdAt: new Date(parsed.data.t), id: parsed.data.id } : null;
  } catch {
    return null;
  }
}

/** `limit` (1–200, default 50) and an opaque `cursor` taken from a previous page's next_cursor. */
export const pageQueryShape = {
  limit: z.coerce.number({ error: 'must be an integer from 1 to 200' }).int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(200)
    .transform((value, ctx) => {
      const cursor = decodeCursor(value);
      if (!cursor) {
        ctx.addIssue({ code: 'custom', message: 'is not a cursor returned by this endpoint' });
        return z.NEVER;
      }
      return cursor;
    })
    .optional(),
};

/** The where clause for rows after `cursor` in (created_at, id) order. */
export function afterCursor(cursor: PageCursor | undefined) {
  if (!cursor) return {};
  return {
    OR: [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }],
  };
}

export const pageOrder = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];

/** Rows were fetched with take: limit + 1; the extra row only says there is a next page. */
export function toPage<T extends PageCursor>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

// ---------------------------------------------------------------------------------------------
// JSON

/** A bigint that is not money (hours, counts) as a JSON number; refuses to lose precision. */
export function jsonInteger(value: bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${value} exceeds the JSON safe integer range`);
  return n;
}

/** A Prisma Decimal as a plain decimal string without trailing zeros ("0.01", "0.1", "12"), exactly. */
export function decimalString(value: Prisma.Decimal): string {
  return formatDecimal(trimDecimal(parseDecimalOrScientific(value.toString())));
}

export function isoOrNull(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

// ---------------------------------------------------------------------------------------------
// Database and auth

/** Prisma's unique-constraint violation (P2002), whatever the driver adapter puts in `meta`. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

/**
 * Route-module hook: every admin route answers 401/403 before its body is validated, so an
 * unauthenticated caller learns nothing about the schema.
 */
export async function requirePlatformAdmin(request: FastifyRequest): Promise<void> {
  authorize(request, 'platform_admin');
}

/** A calendar month as YYYY-MM (periods in query strings and bodies). */
export const periodKey = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM');
