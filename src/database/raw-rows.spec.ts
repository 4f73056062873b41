import { describe, expect, it } from 'vitest';
import { fromJson, toBoolean, toDate } from './raw-rows';

describe('raw row values', () => {
  it('reads timestamps as both dialects give them', () => {
    const instant = '2026-11-29T05:28:43.248Z';
    expect(toDate(new Date(instant))?.toISOString()).toBe(instant);
    expect(toDate('2026-11-29 05:28:43.248')?.toISOString()).toBe(instant);
    expect(toDate('2026-11-29 05:28:43')?.toISOString()).toBe('2026-11-29T05:28:43.000Z');
    expect(toDate('2026-11-29T05:28:43.248612+00:00')?.toISOString()).toBe(instant);
    expect(toDate('2026-11-29T06:28:43.248+01:00')?.toISOString()).toBe(instant);
    expect(toDate(null)).toBeNull();
  });

  it('reads booleans and JSON text', () => {
    expect([toBoolean(1), toBoolean(0), toBoolean(true), toBoolean(false)]).toEqual([true, false, true, false]);
    expect(fromJson<{ a: number }>('{"a":1}')).toEqual({ a: 1 });
    expect(fromJson(null)).toBeNull();
  });
});
