// One LLM usage event as the gateway sends it: its schema, its canonical form and the hash that
// makes ingestion idempotent. Pure: no database, no clock. See README.md for the rules.
import { hash } from 'node:crypto';
import { z } from 'zod';
import type { FieldIssue } from '../platform/errors.ts';
import { formatDecimal, isDecimalString, parseDecimal, trimDecimal } from '../money/decimal.ts';
import { isCurrencyCode } from '../money/money.ts';
import { parseInstant } from '../time/instant.ts';

/**
 * The column is NUMERIC(30,12), but a charge must also be billable and shown end to end: one
 * request is charged less than 1,000,000 major units (6 integer digits), so even millions of
 * events per deployment sum to minor units a JSON number carries exactly.
 */
export const CHARGE_MAX_FRACTION_DIGITS = 12;
export const CHARGE_MAX_INTEGER_DIGITS = 6;
/** gateway_request_id is VARCHAR(200); model and provider get the same cap. */
export const TEXT_MAX_CHARS = 200;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** "is required" for a missing or null field, `wrongType` for anything else of the wrong type. */
const required = (wrongType: string) => (issue: { input?: unknown }) =>
  issue.input === undefined || issue.input === null ? 'is required' : wrongType;

/** Why a string cannot be stored as given in a TEXT/VARCHAR column, or null when it can. */
function textProblem(value: string, maxChars: number): string | null {
  if (value.trim() === '') return 'must not be empty';
  // PostgreSQL text cannot hold NUL, and a lone surrogate would be stored as U+FFFD, i.e. not as sent.
  if (value.includes('\u0000') || !value.isWellFormed()) return 'must be valid text (no NUL, no lone surrogates)';
  // VARCHAR(n) counts characters (code points), not UTF-16 units; never more than the units.
  if (value.length > maxChars && [...value].length > maxChars) return `must be at most ${maxChars} characters`;
  return null;
}

const text = (maxChars: number) =>
  z.string({ error: required('must be a string') }).superRefine((value, ctx) => {
    const problem = textProblem(value, maxChars);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const uuid = z.string({ error: required('must be a UUID string') }).regex(UUID, 'must be a UUID');

const tokens = z
  .int({ error: required('must be a non-negative integer') })
  .min(0, 'must be a non-negative integer');

/** Why a charge string is not acceptable, or null. Never converts it to a number. */
export function chargeProblem(value: string): string | null {
  const unsigned = value.startsWith('-') ? value.slice(1) : value;
  if (!isDecimalString(unsigned, Number.POSITIVE_INFINITY) || unsigned.startsWith('-')) {
    return 'must be a decimal string such as "0.00125" (digits with an optional fraction; no exponent, sign or spaces)';
  }
  if (unsigned !== value) return 'must be ≥ 0 (no sign)';
  if (!isDecimalString(value, CHARGE_MAX_FRACTION_DIGITS)) return `must have at most ${CHARGE_MAX_FRACTION_DIGITS} fractional digits`;
  const integerDigits = (value.split('.')[0] ?? '').replace(/^0+/, '');
  if (integerDigits.length > CHARGE_MAX_INTEGER_DIGITS) return `must be less than 1000000 (at most ${CHARGE_MAX_INTEGER_DIGITS} integer digits): one request's charge beyond that cannot be billed`;
  return null;
}

const charge = z
  .string({
    error: (issue) =>
      issue.input === undefined || issue.input === null
        ? 'is required'
        : typeof issue.input === 'number'
          ? 'must be a decimal string such as "0.00125", not a JSON number (a number cannot be exact)'
          : 'must be a decimal string such as "0.00125"',
  })
  .superRefine((value, ctx) => {
    const problem = chargeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const currency = z
  .string({ error: required('must be an ISO 4217 code string') })
  .refine(isCurrencyCode, 'must be an ISO 4217 currency code in capitals, such as "AUD"');

// RFC 3339 / ISO 8601 with seconds and a mandatory offset, read by the one instant parser.
export { parseInstant } from '../time/instant.ts';

const instant = z
  .string({ error: required('must be an ISO 8601 timestamp string') })
  .refine(
    (value) => parseInstant(value) !== null,
    'must be an ISO 8601 timestamp with seconds and an offset, such as "2025-03-01T12:00:00Z" or "2025-03-01T23:00:00+11:00"',
  );

/** The event as the gateway sends it (snake_case, as on the wire). Unknown fields are ignored. */
export const llmUsageEventSchema = z
  .object({
    gateway_request_id: text(TEXT_MAX_CHARS).meta({ description: 'The gateway\'s id for the request; the idempotency key (1-200 characters).' }),
    tenant_id: uuid.meta({ description: 'The tenant billed.' }),
    deployment_id: uuid.meta({ description: 'A deployment of that tenant.' }),
    model: text(TEXT_MAX_CHARS).meta({ description: 'Model name, e.g. "gpt-4o-mini".' }),
    provider: text(TEXT_MAX_CHARS).meta({ description: 'Upstream provider, e.g. "openai".' }),
    prompt_tokens: tokens,
    completion_tokens: tokens,
    total_tokens: tokens,
    charge: charge.meta({
      description: 'What the gateway priced the request at, in major units of `currency`, as an exact decimal STRING (≥ 0, at most 12 fractional digits). A JSON number is rejected.',
      examples: ['0.00125'],
    }),
    currency: currency.meta({ description: 'ISO 4217; must be the tenant\'s billing currency.', examples: ['AUD'] }),
    occurred_at: instant.meta({ description: 'When the request happened: ISO 8601 with an offset or Z.', examples: ['2025-03-01T12:00:00Z'] }),
  })
  .meta({ description: 'One LLM request, priced by the gateway.' });

export type LlmUsageEventBody = z.input<typeof llmUsageEventSchema>;

/** A valid event in canonical form: what is stored and what is hashed. */
export interface LlmUsageEvent {
  gatewayRequestId: string;
  /** Lower-case, as PostgreSQL prints a uuid. */
  tenantId: string;
  deploymentId: string;
  model: string;
  provider: string;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Exact decimal string, trailing fractional zeros removed: "1.50" → "1.5", "0.000" → "0". */
  charge: string;
  currency: string;
  /** UTC instant with milliseconds, e.g. "2025-03-01T01:00:00.000Z". */
  occurredAt: string;
  /** sha256 (hex) of the canonical body; see llmEventBodyHash. */
  bodyHash: string;
}

export type ParsedLlmEvent = { ok: true; event: LlmUsageEvent } | { ok: false; issues: FieldIssue[] };

/** The field a zod issue is about: the top-level key, or "(event)" when the event itself is wrong. */
function issueField(path: readonly PropertyKey[]): string {
  const first = path[0];
  return typeof first === 'string' ? first : '(event)';
}

export function canonicalCharge(value: string): string {
  return formatDecimal(trimDecimal(parseDecimal(value)));
}

/**
 * sha256 of the canonical body: the wire field names in sorted order, charge normalised
 * numerically, ids lower-cased and occurred_at as a UTC instant. Two bodies that mean the same
 * event hash the same; any other difference is a conflict. Stored hashes depend on this exact text
 * (test/usage/llm-event.test.ts pins two): JSON with the keys sorted, each value as JSON.stringify
 * writes it, no spaces.
 */
export function llmEventBodyHash(event: Omit<LlmUsageEvent, 'bodyHash'>): string {
  // Written out in key order. The free-text fields go through JSON.stringify; every other value is
  // validated to characters JSON writes as they are (digits, '.', '-', hex, A-Z, ':' and 'T'/'Z'),
  // so quoting them directly gives the same text.
  const json =
    `{"charge":"${event.charge}","completion_tokens":${event.completionTokens},"currency":"${event.currency}",` +
    `"deployment_id":"${event.deploymentId}","gateway_request_id":${JSON.stringify(event.gatewayRequestId)},` +
    `"model":${JSON.stringify(event.model)},"occurred_at":"${event.occurredAt}","prompt_tokens":${event.promptTokens},` +
    `"provider":${JSON.stringify(event.provider)},"tenant_id":"${event.tenantId}","total_tokens":${event.totalTokens}}`;
  return hash('sha256', json, 'hex');
}

const isToken = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * The event in canonical form when every field is valid, else null. The same checks as
 * llmUsageEventSchema (the same functions: textProblem, UUID, chargeProblem, isCurrencyCode,
 * parseInstant), without zod building a result per field: the gateway sends events by the
 * hundred thousand and nearly all are valid. Anything else goes through the schema, whose issues
 * name the fields (test/usage/llm-event.test.ts checks on random events that both agree).
 */
function validEvent(raw: unknown): Omit<LlmUsageEvent, 'bodyHash'> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const e = raw as Record<string, unknown>;
  const { gateway_request_id: id, tenant_id: tenant, deployment_id: deployment, model, provider, charge, currency, occurred_at: occurred } = e;
  const { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total } = e;
  if (typeof id !== 'string' || textProblem(id, TEXT_MAX_CHARS) !== null) return null;
  if (typeof tenant !== 'string' || !UUID.test(tenant) || typeof deployment !== 'string' || !UUID.test(deployment)) return null;
  if (typeof model !== 'string' || textProblem(model, TEXT_MAX_CHARS) !== null) return null;
  if (typeof provider !== 'string' || textProblem(provider, TEXT_MAX_CHARS) !== null) return null;
  if (!isToken(prompt) || !isToken(completion) || !isToken(total)) return null;
  if (typeof charge !== 'string' || chargeProblem(charge) !== null) return null;
  if (typeof currency !== 'string' || !isCurrencyCode(currency)) return null;
  const occurredAt = typeof occurred === 'string' ? parseInstant(occurred) : null;
  if (occurredAt === null) return null;
  return {
    gatewayRequestId: id,
    tenantId: tenant.toLowerCase(),
    deploymentId: deployment.toLowerCase(),
    model,
    provider,
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: total,
    charge: canonicalCharge(charge),
    currency,
    occurredAt,
  };
}

/** Validates one event (the per-event errors name the field) and brings it to canonical form. */
export function parseLlmEvent(raw: unknown): ParsedLlmEvent {
  const valid = validEvent(raw);
  if (valid) return { ok: true, event: { ...valid, bodyHash: llmEventBodyHash(valid) } };
  return parseLlmEventWithSchema(raw);
}

/** parseLlmEvent through llmUsageEventSchema alone: the reference, and the path of every invalid event. */
export function parseLlmEventWithSchema(raw: unknown): ParsedLlmEvent {
  const parsed = llmUsageEventSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ field: issueField(issue.path), message: issue.message }));
    return { ok: false, issues };
  }
  const body = parsed.data;
  const occurredAt = parseInstant(body.occurred_at);
  if (occurredAt === null) throw new Error('unreachable: occurred_at passed validation'); // the schema refines with parseInstant
  const event: Omit<LlmUsageEvent, 'bodyHash'> = {
    gatewayRequestId: body.gateway_request_id,
    tenantId: body.tenant_id.toLowerCase(),
    deploymentId: body.deployment_id.toLowerCase(),
    model: body.model,
    provider: body.provider,
    promptTokens: body.prompt_tokens,
    completionTokens: body.completion_tokens,
    totalTokens: body.total_tokens,
    charge: canonicalCharge(body.charge),
    currency: body.currency,
    occurredAt,
  };
  return { ok: true, event: { ...event, bodyHash: llmEventBodyHash(event) } };
}
