import { describe, expect, it } from 'vitest';
import { isValidTimeZone, utcOffsetAt } from './time-zone';

const HOUR_MS = 3_600_000;

describe('isValidTimeZone', () => {
  it.each([
    'UTC',
    'Etc/UTC',
    'GMT',
    'America/New_York',
    'Europe/Berlin',
    'Australia/Sydney',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'Asia/Calcutta',
    'America/Argentina/Buenos_Aires',
    'America/Port-au-Prince',
    'US/Eastern',
    'EST5EDT',
    'Etc/GMT+5',
    'Etc/GMT-14',
    'america/new_york',
  ])('accepts %j', (name) => {
    expect(isValidTimeZone(name)).toBe(true);
  });

  it.each([
    '',
    ' ',
    ' UTC',
    'UTC ',
    'Mars/Olympus_Mons',
    'Europe/Nowhere',
    'New York',
    'America/New York',
    'America//New_York',
    '/UTC',
    'UTC/',
    'local',
    'Z',
    '+05:00',
    '-05:00',
    '+0530',
    '05:00',
    'GMT+5',
    'GMT-05:00',
    'UTC+1',
    'UTC-03:00',
    'UT+2',
    'GMT+0',
  ])('rejects %j', (name) => {
    expect(isValidTimeZone(name)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidTimeZone(undefined as unknown as string)).toBe(false);
    expect(isValidTimeZone(5 as unknown as string)).toBe(false);
  });

  it('gives the same answer when asked again (cached)', () => {
    expect([isValidTimeZone('Europe/Paris'), isValidTimeZone('Europe/Paris')]).toEqual([true, true]);
    expect([isValidTimeZone('Europe/Pariss'), isValidTimeZone('Europe/Pariss')]).toEqual([false, false]);
  });
});

describe('utcOffsetAt', () => {
  it('returns wall time minus UTC in milliseconds', () => {
    expect(utcOffsetAt('UTC', Date.parse('2027-06-01T12:00:00Z'))).toBe(0);
    expect(utcOffsetAt('America/New_York', Date.parse('2027-01-15T12:00:00Z'))).toBe(-5 * HOUR_MS);
    expect(utcOffsetAt('America/New_York', Date.parse('2027-07-15T12:00:00Z'))).toBe(-4 * HOUR_MS);
    expect(utcOffsetAt('Asia/Kolkata', Date.parse('2027-07-15T12:00:00Z'))).toBe(5.5 * HOUR_MS);
    expect(utcOffsetAt('Australia/Lord_Howe', Date.parse('2027-07-15T12:00:00Z'))).toBe(10.5 * HOUR_MS);
    expect(utcOffsetAt('Australia/Lord_Howe', Date.parse('2027-12-15T12:00:00Z'))).toBe(11 * HOUR_MS);
    expect(utcOffsetAt('Etc/GMT+5', Date.parse('2027-12-15T12:00:00Z'))).toBe(-5 * HOUR_MS);
  });

  it('switches exactly at the transition instant', () => {
    const transition = Date.parse('2027-03-14T07:00:00Z');
    expect(utcOffsetAt('America/New_York', transition - 1)).toBe(-5 * HOUR_MS);
    expect(utcOffsetAt('America/New_York', transition)).toBe(-4 * HOUR_MS);
  });

  it('ignores milliseconds of the instant', () => {
    expect(utcOffsetAt('Europe/Berlin', Date.parse('2027-01-01T00:00:00.999Z'))).toBe(HOUR_MS);
  });

  it('throws a RangeError for unknown zones', () => {
    expect(() => utcOffsetAt('Mars/Olympus_Mons', 0)).toThrow(RangeError);
    expect(() => utcOffsetAt('+05:00', 0)).toThrow('unknown time zone "+05:00"');
  });
});
