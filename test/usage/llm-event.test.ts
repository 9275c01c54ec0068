// Pure: validation, canonical form and body hash of one LLM usage event. No database.
import { describe, expect, it } from 'vitest';
import { canonicalCharge, chargeProblem, parseInstant, parseLlmEvent, type LlmUsageEventBody } from '../../src/usage/llm-event.ts';

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
