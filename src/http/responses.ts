// Response schemas for the OpenAPI document, declared per status from the same zod schemas the
// code serialises with (fastify-type-provider-zod validates each answer against them). Every route
// declares its success body and the error statuses it can answer, all with the one error body.
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { z } from 'zod';
import type { Config } from '../platform/config.ts';

/** The one error body (src/http/errors.ts): `{error, message, field?}` plus issues/details when known. */
export const errorBody = z
  .object({
    error: z.string().describe('stable error code, e.g. validation_failed, tenant_not_found'),
    message: z.string(),
    field: z.string().optional().describe('the field at fault'),
    issues: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('Error');

/** The one money shape (src/money/money.ts moneyJson). */
export const money = z
  .object({
    amount_minor: z
      .union([z.number().int(), z.string().regex(/^-?\d+$/)])
      .describe('integer minor units (cents); a decimal string only beyond ±(2^53 − 1), where a JSON number would lose digits'),
    currency: z.string().length(3),
    formatted: z.string().describe('the amount as a decimal string in major units, e.g. "70.64"'),
  })
  .describe('Money');

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'the request does not match the schema (field named)',
  401: 'missing or invalid bearer token',
  403: 'the role may not do this',
  404: 'not found (or another tenant\'s)',
  409: 'duplicate or conflicting state',
  422: 'a business rule refused the value (field named)',
  503: 'not ready',
};

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 503;

/** Statuses every authenticated route can answer. */
export const AUTHENTICATED: readonly ErrorStatus[] = [400, 401, 403];

/**
 * The `response` map of a route schema: its success status(es) with their body and each error
 * status with the error body, e.g. `responses({ 201: tenantJson }, [...AUTHENTICATED, 409])`.
 */
export function responses<S extends Record<number, z.ZodType>>(success: S, errors: readonly ErrorStatus[] = AUTHENTICATED) {
  const out: Record<number, z.ZodType> = { ...success };
  for (const status of errors) out[status] = errorBody.describe(`Error: ${ERROR_DESCRIPTIONS[status]}`);
  return out as S & Record<ErrorStatus, typeof errorBody>;
}

/** A page of items with the cursor of the next page. */
export function page<T extends z.ZodType>(item: T) {
  return z.strictObject({ data: z.array(item), next_cursor: z.string().nullable() });
}

export const isoDateTime = z.string().describe('ISO 8601 date-time, UTC');

/**
 * Route options for the API's hottest routes (GET /api/v1/invoices, POST /api/v1/integrations/llm-usage):
 * in production their answers are written by JSON.stringify alone, without zod first checking each
 * one against the response schema (bench:api: the check was about 15% of the CPU a page of 50
 * invoices costs the API). Everywhere else, tests and development included, they are checked like
 * every other route's, so an answer that drifts from its documented schema still fails the tests.
 * (`any`: Fastify types a route's compiler by that route's schema; this one serves any schema.)
 */
export function hotPathSerialization(config: Pick<Config, 'NODE_ENV'>): { serializerCompiler?: FastifySerializerCompiler<any> } {
  if (config.NODE_ENV !== 'production') return {};
  return { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };
}
