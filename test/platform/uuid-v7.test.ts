import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/platform/uuid-v7.ts';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID whose first 48 bits are the time in milliseconds', () => {
    const at = Date.UTC(2026, 10, 22, 8, 0, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by time, and 100,000 of them made in one burst are distinct', () => {
    expect(uuidv7(1_000) < uuidv7(1_001)).toBe(true);
    expect(uuidv7(0xff_ffff_ffff) < uuidv7(0x100_0000_0000)).toBe(true);
    const ids = new Set(Array.from({ length: 100_000 }, () => uuidv7()));
    expect(ids.size).toBe(100_000);
  });
});
