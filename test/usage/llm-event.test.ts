// Pure: validation, canonical form and body hash of one LLM usage event. No database.
import { createHash } from 'node:crypto';
import { isExists } from 'date-fns/isExists';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstantDate } from '../../src/time/instant.ts';
import { canonicalCharge, chargeProblem, llmEventBodyHash, parseInstant, parseLlmEvent, parseLlmEventWithSchema, type LlmUsageEvent, type LlmUsageEventBody } from '../../src/usage/llm-event.ts';

const body = (overrides: Record<string, unknown> = {}): LlmUsageEventBody =>
  ({
    gateway_request_id: 'req-1',
    tenant_id: '11111111-1111-4111-8111-111111111111',
    deployment_id: '22222222-2222-4222-8222-222222222222',
    model: 'gpt-4o-mini',
    provider: 'openai',
    prompt_tokens: 100,
    completion_tokens: 20,
    total_tokens: 120,
    charge: '0.00125',
    currency: 'AUD',
    occurred_at: '2025-03-01T12:00:00Z',
    ...overrides,
  }) as LlmUsageEventBody;

function fieldsAtFault(raw: unknown): string[] {
  const parsed = parseLlmEvent(raw);
  return parsed.ok ? [] : parsed.issues.map((i) => i.field);
}

function hashOf(raw: unknown): string {
  const parsed = parseLlmEvent(raw);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.event.bodyHash;
}

describe('parseLlmEvent', () => {
  it('accepts a valid event and brings it to canonical form', () => {
    const parsed = parseLlmEvent(body({ charge: '001.2500', tenant_id: '11111111-1111-4111-8111-11111111111A', occurred_at: '2025-03-01T23:00:00.123456+11:00' }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.event).toMatchObject({
      gatewayRequestId: 'req-1',
      tenantId: '11111111-1111-4111-8111-11111111111a',
      charge: '1.25',
      occurredAt: '2025-03-01T12:00:00.123Z',
      promptTokens: 100,
    });
    expect(parsed.event.bodyHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports every field at fault, by name', () => {
    expect(fieldsAtFault({})).toEqual([
      'gateway_request_id',
      'tenant_id',
      'deployment_id',
      'model',
      'provider',
      'prompt_tokens',
      'completion_tokens',
      'total_tokens',
      'charge',
      'currency',
      'occurred_at',
    ]);
    expect(fieldsAtFault(null)).toEqual(['(event)']);
    expect(fieldsAtFault('event')).toEqual(['(event)']);
  });

  it.each([
    ['gateway_request_id', ''],
    ['gateway_request_id', '   '],
    ['gateway_request_id', 'x'.repeat(201)],
    ['gateway_request_id', 'nul\u0000byte'],
    ['gateway_request_id', 'lone \ud800 surrogate'],
    ['gateway_request_id', 42],
    ['tenant_id', 'not-a-uuid'],
    ['deployment_id', null],
    ['model', ''],
    ['provider', 7],
    ['prompt_tokens', -1],
    ['completion_tokens', 1.5],
    ['total_tokens', Number.MAX_SAFE_INTEGER + 1],
    ['total_tokens', '120'],
    ['charge', 0.00125],
    ['charge', '0.0000000000001'],
    ['charge', '-0.5'],
    ['charge', '-0'],
    ['charge', '1e-3'],
    ['charge', '.5'],
    ['charge', ' 1.5'],
    ['charge', '1,5'],
    ['charge', '1000000000000000000'],
    ['charge', '100000000000000'],
    ['charge', '1000000'],
    ['currency', 'aud'],
    ['currency', 'XYZ'],
    ['occurred_at', '2025-03-01T12:00:00'],
    ['occurred_at', '2025-03-01'],
    ['occurred_at', '2025-02-30T00:00:00Z'],
    ['occurred_at', '2025-03-01T24:00:00Z'],
    ['occurred_at', 1740830400000],
  ])('rejects %s = %j, naming the field', (field, value) => {
    expect(fieldsAtFault(body({ [field]: value }))).toEqual([field]);
  });

  it('explains why a JSON number charge is rejected', () => {
    const parsed = parseLlmEvent(body({ charge: 0.00125 }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues[0]?.message).toMatch(/not a JSON number/);
  });

  it('accepts the limits: 200 characters, 12 fractional digits, 6 integer digits, zero', () => {
    expect(fieldsAtFault(body({ gateway_request_id: '😀'.repeat(200) }))).toEqual([]); // 200 characters, 400 UTF-16 units
    expect(fieldsAtFault(body({ charge: '0.000000000001' }))).toEqual([]);
    expect(fieldsAtFault(body({ charge: '999999.999999999999' }))).toEqual([]);
    expect(fieldsAtFault(body({ charge: '0' }))).toEqual([]);
    expect(fieldsAtFault(body({ prompt_tokens: 0, total_tokens: Number.MAX_SAFE_INTEGER }))).toEqual([]);
  });

  it('ignores unknown fields', () => {
    expect(hashOf(body({ cached_tokens: 5 }))).toBe(hashOf(body()));
  });
});

describe('body hash', () => {
  it('is the same for bodies that mean the same event', () => {
    const base = hashOf(body({ charge: '1.5' }));
    expect(hashOf(body({ charge: '1.50' }))).toBe(base);
    expect(hashOf(body({ charge: '01.500000000000' }))).toBe(base);
    expect(hashOf(body({ charge: '1.5', occurred_at: '2025-03-01T23:00:00+11:00' }))).toBe(base);
    expect(hashOf(body({ charge: '1.5', occurred_at: '2025-03-01T07:00:00.000-0500' }))).toBe(base);
    expect(hashOf(body({ charge: '1.5', tenant_id: '11111111-1111-4111-8111-111111111111'.toUpperCase() }))).toBe(base);
    const reordered = Object.fromEntries(Object.entries(body({ charge: '1.5' })).reverse());
    expect(hashOf(reordered)).toBe(base);
  });

  it('is the hash stored events already carry (the canonical text must not change)', () => {
    expect(hashOf(body())).toBe('6b416e3beee79e581749133076323dad15b684a416b7b4351c6a686fa6ee1e59');
    expect(hashOf(body({ gateway_request_id: 'é "quoted" \\ \u2028 😀', model: 'm\u0001' }))).toBe('5e75adc316154c7708f5fb0d1c92a03a1b6c327cb8ad4e14482fd03314e4afcd');
  });

  it('differs when any field differs', () => {
    const base = hashOf(body());
    for (const change of [
      { charge: '0.00126' },
      { prompt_tokens: 101 },
      { model: 'gpt-4o' },
      { occurred_at: '2025-03-01T12:00:00.001Z' },
      { deployment_id: '33333333-3333-4333-8333-333333333333' },
      { gateway_request_id: 'req-2' },
    ]) {
      expect(hashOf(body(change))).not.toBe(base);
    }
  });
});

describe('parseLlmEvent without the schema for valid events', () => {
  // Each field valid most of the time, else one of the ways it can be wrong: parseLlmEvent (its own
  // checks, the schema only for what they refuse) must answer exactly what the schema alone does.
  const pick = <T,>(valid: fc.Arbitrary<T>, invalid: unknown[]) => fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });
  const text = pick(fc.oneof(fc.string({ minLength: 1, maxLength: 210 }), fc.string({ unit: 'grapheme', minLength: 150, maxLength: 205 })), ['', '   ', 'a\u0000b', 'x\ud800', 7, null, undefined, ['a']]);
  const uuid = pick(fc.uuid().chain((u) => fc.constantFrom(u, u.toUpperCase())), ['not-a-uuid', '11111111-1111-4111-8111-11111111111', 12, null, undefined]);
  const tokens = pick(fc.oneof(fc.nat(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER)), [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, '10', null, undefined, Number.NaN, Infinity]);
  const charge = pick(fc.stringMatching(/^\d{1,7}(\.\d{1,13})?$/), ['-1', '1e-3', '.5', ' 1', 1.5, null, undefined, '', '1.']);
  const currency = pick(fc.constantFrom('AUD', 'USD', 'JPY'), ['aud', 'XYZ', 'AU', 1, null, undefined]);
  const instant = pick(fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()), ['2025-03-01T12:00:00', '2025-02-30T00:00:00Z', 1740830400000, null, undefined, '0050-01-01T00:00:00Z']);
  const event = fc.record(
    { gateway_request_id: text, tenant_id: uuid, deployment_id: uuid, model: text, provider: text, prompt_tokens: tokens, completion_tokens: tokens, total_tokens: tokens, charge, currency, occurred_at: instant, extra: fc.anything() },
    { requiredKeys: ['gateway_request_id', 'tenant_id', 'deployment_id', 'model', 'provider', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'charge', 'currency', 'occurred_at'] },
  );

  // The body hash as first written: keys sorted at run time, every value through JSON.stringify.
  const referenceHash = (e: Omit<LlmUsageEvent, 'bodyHash'>) => {
    const canonical: Record<string, string | number> = {
      charge: e.charge, completion_tokens: e.completionTokens, currency: e.currency, deployment_id: e.deploymentId,
      gateway_request_id: e.gatewayRequestId, model: e.model, occurred_at: e.occurredAt, prompt_tokens: e.promptTokens,
      provider: e.provider, tenant_id: e.tenantId, total_tokens: e.totalTokens,
    };
    const json = `{${Object.keys(canonical).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(canonical[k])}`).join(',')}}`;
    return createHash('sha256').update(json, 'utf8').digest('hex');
  };

  it('hashes every valid event as the first, generic, body hash did', () => {
    let checked = 0;
    fc.assert(
      fc.property(event, (raw) => {
        const parsed = parseLlmEvent(raw);
        if (!parsed.ok) return;
        const { bodyHash, ...rest } = parsed.event;
        expect(bodyHash).toBe(referenceHash(rest));
        expect(llmEventBodyHash(rest)).toBe(bodyHash);
        checked += 1;
      }),
      { numRuns: 3_000 },
    );
    expect(checked).toBeGreaterThan(300);
  });

  it('answers as the schema does, on random events valid and not', () => {
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 20, arbitrary: event }, { weight: 1, arbitrary: fc.anything() }), (raw) => {
        const expected = parseLlmEventWithSchema(raw);
        expect(parseLlmEvent(raw)).toEqual(expected);
        if (expected.ok) valid += 1;
      }),
      { numRuns: 5_000 },
    );
    expect(valid).toBeGreaterThan(500); // both paths were taken
  });
});

describe('canonicalCharge', () => {
  it.each([
    ['1.50', '1.5'],
    ['0.000', '0'],
    ['007', '7'],
    ['0.00125', '0.00125'],
    ['123456789012345678.123456789012', '123456789012345678.123456789012'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalCharge(input)).toBe(expected);
  });

  it('chargeProblem is null only for unsigned decimals within NUMERIC(30,12)', () => {
    expect(chargeProblem('0.00125')).toBeNull();
    expect(chargeProblem('-1')).toMatch(/≥ 0/);
    expect(chargeProblem('--1')).toMatch(/decimal string/);
    expect(chargeProblem('+1')).toMatch(/decimal string/);
  });
});

describe('parseInstant', () => {
  it.each([
    ['2025-03-01T12:00:00Z', '2025-03-01T12:00:00.000Z'],
    ['2025-03-01t12:00:00z', '2025-03-01T12:00:00.000Z'],
    ['2025-03-01T00:30:00+11:00', '2025-02-28T13:30:00.000Z'],
    ['2024-02-29T23:59:59.9999999-01', '2024-03-01T00:59:59.999Z'],
    ['2025-03-01T12:00:00,5+0530', '2025-03-01T06:30:00.500Z'],
  ])('%s is the instant %s', (input, expected) => {
    expect(parseInstant(input)).toBe(expected);
  });

  it.each(['2025-03-01T12:00:00', '2025-03-01 12:00:00Z', '2025-03-01T12:00Z', '2025-13-01T00:00:00Z', '2025-03-01T12:00:60Z', '2025-03-01T12:00:00+24:00', '0000-01-01T00:00:00Z'])(
    'rejects %s',
    (input) => {
      expect(parseInstant(input)).toBeNull();
    },
  );
});

describe('parseInstantDate', () => {
  // The parser as it was before it was made to allocate less (date-fns isExists for the calendar):
  // the reference the fast one must equal.
  const STRICT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/i;
  const SPACED = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(?:(Z|UTC)|([+-])(\d{2})(?::?(\d{2}))?)$/i;
  function reference(value: string, options: { spaced?: boolean } = {}): Date | null {
    const m = (options.spaced ? SPACED : STRICT).exec(options.spaced ? value.trim() : value);
    if (!m) return null;
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number.parseInt(part ?? '', 10)) as [number, number, number, number, number, number];
    const millis = Number.parseInt((m[7] ?? '').slice(0, 3).padEnd(3, '0'), 10);
    const offsetHours = m[8] ? 0 : Number.parseInt(m[10] ?? '0', 10);
    const offsetMinutes = m[8] ? 0 : Number.parseInt(m[11] ?? '0', 10);
    if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
    if (!isExists(year, month - 1, day)) return null;
    const local = new Date(0);
    local.setUTCFullYear(year, month - 1, day);
    local.setUTCHours(hour, minute, second, millis);
    const sign = m[9] === '-' ? -1 : 1;
    const instant = new Date(local.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
    const utcYear = instant.getUTCFullYear();
    if (Number.isNaN(utcYear) || utcYear < 1 || utcYear > 9999) return null;
    return instant;
  }
  const digits = (n: number, max: number) => fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, '0'));
  const timestamp = fc
    .tuple(
      fc.oneof(digits(4, 9999), fc.constantFrom('0001', '0099', '0100', '1900', '2000', '2024', '2100', '9999')),
      digits(2, 13),
      digits(2, 32),
      fc.constantFrom('T', 't', ' '),
      digits(2, 25),
      digits(2, 61),
      digits(2, 61),
      fc.oneof(fc.constant(''), fc.stringMatching(/^[.,]\d{1,9}$/)),
      fc.oneof(fc.constantFrom('Z', 'z', ' UTC', 'UTC', ''), fc.stringMatching(/^ ?[+-]\d{2}(:?\d{2})?$/)),
    )
    .map(([y, mo, d, t, h, mi, s, f, z]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${f}${z}`);

  it('equals the isExists version on random timestamps, strict and spaced', () => {
    fc.assert(
      fc.property(fc.oneof(timestamp, fc.string()), fc.boolean(), (value, spaced) => {
        expect(parseInstantDate(value, { spaced })?.getTime() ?? null).toBe(reference(value, { spaced })?.getTime() ?? null);
      }),
      { numRuns: 20_000 },
    );
  });
});
