import { describe, expect, it } from 'vitest';
import { parseCronExpression, type CronExpression } from './cron-expression';
import { nextFireTime, nextFireTimes } from './cron-schedule';

const NY = 'America/New_York';

/** Fire times as ISO strings without milliseconds, for readable expectations. */
function fires(source: string, timeZone: string, after: string, count: number): string[] {
  return nextFireTimes(parseCronExpression(source), timeZone, new Date(after), count).map(iso);
}

function iso(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/** Fire times whose ISO string starts with `prefix` (e.g. a UTC day). */
function firesWithin(source: string, timeZone: string, after: string, count: number, prefix: string): string[] {
  return fires(source, timeZone, after, count).filter((time) => time.startsWith(prefix));
}

describe('nextFireTimes', () => {
  describe('worked examples (daylight saving, cron(8) policy)', () => {
    it('30 2 * * * in New York runs at the transition (03:00 EDT) on spring-forward day', () => {
      expect(fires('30 2 * * *', NY, '2027-03-12T12:00:00Z', 4)).toEqual([
        '2027-03-13T07:30:00Z',
        '2027-03-14T07:00:00Z',
        '2027-03-15T06:30:00Z',
        '2027-03-16T06:30:00Z',
      ]);
    });

    it('30 1 * * * in New York runs once on fall-back day, at the first 01:30 (EDT)', () => {
      expect(fires('30 1 * * *', NY, '2027-11-06T00:00:00Z', 3)).toEqual([
        '2027-11-06T05:30:00Z',
        '2027-11-07T05:30:00Z',
        '2027-11-08T06:30:00Z',
      ]);
    });

    it('*/30 1 * * * in New York runs at both 01:00 and both 01:30 on fall-back day', () => {
      expect(fires('*/30 1 * * *', NY, '2027-11-07T00:00:00Z', 5)).toEqual([
        '2027-11-07T05:00:00Z',
        '2027-11-07T05:30:00Z',
        '2027-11-07T06:00:00Z',
        '2027-11-07T06:30:00Z',
        '2027-11-08T06:00:00Z',
      ]);
    });

    it('30 2 * * * in Sydney runs at 03:00 AEDT on the southern spring-forward day', () => {
      expect(fires('30 2 * * *', 'Australia/Sydney', '2027-10-01T00:00:00Z', 3)).toEqual([
        '2027-10-01T16:30:00Z',
        '2027-10-02T16:00:00Z',
        '2027-10-03T15:30:00Z',
      ]);
    });

    it('15 2 * * * on Lord Howe runs at 02:30 (the transition) over a 30-minute gap', () => {
      expect(fires('15 2 * * *', 'Australia/Lord_Howe', '2027-10-01T00:00:00Z', 3)).toEqual([
        '2027-10-01T15:45:00Z',
        '2027-10-02T15:30:00Z',
        '2027-10-03T15:15:00Z',
      ]);
    });
  });

  describe('skipped wall times (spring forward)', () => {
    it('does not run a non-fixed job in the gap: */15 2 * * * in New York', () => {
      expect(fires('*/15 2 * * *', NY, '2027-03-13T12:00:00Z', 5)).toEqual([
        '2027-03-15T06:00:00Z',
        '2027-03-15T06:15:00Z',
        '2027-03-15T06:30:00Z',
        '2027-03-15T06:45:00Z',
        '2027-03-16T06:00:00Z',
      ]);
    });

    it('skips 02:00 for an hourly job in New York', () => {
      expect(fires('0 * * * *', NY, '2027-03-14T04:30:00Z', 4)).toEqual([
        '2027-03-14T05:00:00Z', // 00:00 EST
        '2027-03-14T06:00:00Z', // 01:00 EST
        '2027-03-14T07:00:00Z', // 03:00 EDT
        '2027-03-14T08:00:00Z', // 04:00 EDT
      ]);
    });

    it('returns one slot when several skipped wall times map to the transition: 0,30 2 * * *', () => {
      expect(fires('0,30 2 * * *', NY, '2027-03-13T12:00:00Z', 3)).toEqual([
        '2027-03-14T07:00:00Z',
        '2027-03-15T06:00:00Z',
        '2027-03-15T06:30:00Z',
      ]);
    });

    it('returns one slot when a skipped wall time and the first valid one share the instant: 30 2,3', () => {
      expect(fires('30 2,3 * * *', NY, '2027-03-14T00:00:00Z', 3)).toEqual([
        '2027-03-14T07:00:00Z', // 02:30 does not exist: the transition, 03:00 EDT
        '2027-03-14T07:30:00Z', // 03:30 EDT
        '2027-03-15T06:30:00Z',
      ]);
      expect(fires('0 2,3 * * *', NY, '2027-03-14T00:00:00Z', 2)).toEqual(['2027-03-14T07:00:00Z', '2027-03-15T06:00:00Z']);
    });

    it('runs a fixed job spanning the whole gap once: 0-59 2 * * *', () => {
      expect(firesWithin('0-59 2 * * *', NY, '2027-03-14T00:00:00Z', 2, '2027-03-14')).toEqual(['2027-03-14T07:00:00Z']);
    });

    it('handles Europe/Berlin (02:00 CET -> 03:00 CEST at 01:00 UTC)', () => {
      expect(fires('30 2 * * *', 'Europe/Berlin', '2027-03-27T12:00:00Z', 2)).toEqual([
        '2027-03-28T01:00:00Z',
        '2027-03-29T00:30:00Z',
      ]);
      expect(fires('*/30 * * * *', 'Europe/Berlin', '2027-03-28T00:00:00Z', 4)).toEqual([
        '2027-03-28T00:30:00Z', // 01:30 CET
        '2027-03-28T01:00:00Z', // 03:00 CEST
        '2027-03-28T01:30:00Z',
        '2027-03-28T02:00:00Z',
      ]);
    });

    it('runs a midnight job at 01:00 when a zone skips midnight (America/Santiago)', () => {
      expect(fires('@daily', 'America/Santiago', '2027-09-03T12:00:00Z', 3)).toEqual([
        '2027-09-04T04:00:00Z', // 00:00 -04
        '2027-09-05T04:00:00Z', // 00:00 does not exist: 01:00 -03
        '2027-09-06T03:00:00Z', // 00:00 -03
      ]);
    });
  });

  describe('repeated wall times (fall back)', () => {
    it('runs an hourly job twice at 01:00 in New York', () => {
      expect(fires('0 * * * *', NY, '2027-11-07T03:30:00Z', 5)).toEqual([
        '2027-11-07T04:00:00Z', // 00:00 EDT
        '2027-11-07T05:00:00Z', // 01:00 EDT
        '2027-11-07T06:00:00Z', // 01:00 EST
        '2027-11-07T07:00:00Z', // 02:00 EST
        '2027-11-07T08:00:00Z',
      ]);
    });

    it('continues with the second pass when `after` lies inside the first', () => {
      expect(fires('*/30 1 * * *', NY, '2027-11-07T05:40:00Z', 3)).toEqual([
        '2027-11-07T06:00:00Z',
        '2027-11-07T06:30:00Z',
        '2027-11-08T06:00:00Z',
      ]);
    });

    it('does not repeat a fixed job when `after` lies inside the second pass', () => {
      expect(fires('30 1 * * *', NY, '2027-11-07T06:10:00Z', 1)).toEqual(['2027-11-08T06:30:00Z']);
    });

    it('handles the southern fall-back in Sydney (April)', () => {
      expect(fires('30 2 * * *', 'Australia/Sydney', '2027-04-02T12:00:00Z', 3)).toEqual([
        '2027-04-02T15:30:00Z',
        '2027-04-03T15:30:00Z', // first 02:30, AEDT
        '2027-04-04T16:30:00Z', // AEST from now on
      ]);
      expect(fires('*/30 2 * * *', 'Australia/Sydney', '2027-04-03T12:00:00Z', 5)).toEqual([
        '2027-04-03T15:00:00Z',
        '2027-04-03T15:30:00Z',
        '2027-04-03T16:00:00Z',
        '2027-04-03T16:30:00Z',
        '2027-04-04T16:00:00Z',
      ]);
    });

    it('handles the 30-minute repeat on Lord Howe', () => {
      expect(fires('45 1 * * *', 'Australia/Lord_Howe', '2027-04-02T12:00:00Z', 3)).toEqual([
        '2027-04-02T14:45:00Z',
        '2027-04-03T14:45:00Z', // first 01:45, +11:00
        '2027-04-04T15:15:00Z', // +10:30
      ]);
      expect(fires('*/15 1 * * *', 'Australia/Lord_Howe', '2027-04-03T12:00:00Z', 7)).toEqual([
        '2027-04-03T14:00:00Z', // 01:00 +11:00
        '2027-04-03T14:15:00Z',
        '2027-04-03T14:30:00Z', // 01:30 +11:00
        '2027-04-03T14:45:00Z',
        '2027-04-03T15:00:00Z', // 01:30 +10:30
        '2027-04-03T15:15:00Z',
        '2027-04-04T14:30:00Z', // 01:00 +10:30
      ]);
    });

    it('handles Europe/Berlin (03:00 CEST -> 02:00 CET at 01:00 UTC)', () => {
      expect(fires('30 2 * * *', 'Europe/Berlin', '2027-10-30T12:00:00Z', 2)).toEqual([
        '2027-10-31T00:30:00Z',
        '2027-11-01T01:30:00Z',
      ]);
      expect(fires('*/30 2 * * *', 'Europe/Berlin', '2027-10-30T23:00:00Z', 5)).toEqual([
        '2027-10-31T00:00:00Z',
        '2027-10-31T00:30:00Z',
        '2027-10-31T01:00:00Z',
        '2027-10-31T01:30:00Z',
        '2027-11-01T01:00:00Z',
      ]);
    });

    it('handles a repeat just before midnight (America/Santiago)', () => {
      expect(fires('30 23 * * *', 'America/Santiago', '2027-04-03T12:00:00Z', 2)).toEqual([
        '2027-04-04T02:30:00Z', // first 23:30, -03
        '2027-04-05T03:30:00Z',
      ]);
      expect(fires('*/30 23 * * *', 'America/Santiago', '2027-04-03T12:00:00Z', 4)).toEqual([
        '2027-04-04T02:00:00Z',
        '2027-04-04T02:30:00Z',
        '2027-04-04T03:00:00Z',
        '2027-04-04T03:30:00Z',
      ]);
    });

    it('runs every minute through the repeated hour: 120 distinct minutes between 05:00Z and 07:00Z', () => {
      const times = fires('* 1 * * *', NY, '2027-11-07T04:59:00Z', 121);
      expect(times.slice(0, 120).every((t) => t >= '2027-11-07T05:00:00Z' && t < '2027-11-07T07:00:00Z')).toBe(true);
      expect(new Set(times).size).toBe(121);
      expect(times[120]).toBe('2027-11-08T06:00:00Z');
    });
  });

  describe('counts across daylight-saving changes', () => {
    it('returns a daily job across spring forward and fall back with steady wall times', () => {
      const times = fires('0 12 * * *', NY, '2027-03-13T00:00:00Z', 3);
      expect(times).toEqual(['2027-03-13T17:00:00Z', '2027-03-14T16:00:00Z', '2027-03-15T16:00:00Z']);
    });

    it('returns 25 hourly fire times across the fall-back day (one extra hour)', () => {
      // From 23:59 EDT on Nov 6 to 00:00 EST on Nov 8.
      const times = fires('0 * * * *', NY, '2027-11-07T03:59:00Z', 26);
      expect(times[0]).toBe('2027-11-07T04:00:00Z');
      expect(times[24]).toBe('2027-11-08T04:00:00Z');
      expect(times[25]).toBe('2027-11-08T05:00:00Z');
    });

    it('returns 23 hourly fire times on the spring-forward day', () => {
      const times = fires('0 * * * *', NY, '2027-03-14T04:59:00Z', 30);
      const localDay = times.filter((t) => t >= '2027-03-14T05:00:00Z' && t < '2027-03-15T04:00:00Z');
      expect(localDay).toHaveLength(23);
    });
  });

  describe('UTC and fixed-offset zones', () => {
    it('fires every 5 minutes in UTC', () => {
      expect(fires('*/5 * * * *', 'UTC', '2027-01-01T00:02:30Z', 3)).toEqual([
        '2027-01-01T00:05:00Z',
        '2027-01-01T00:10:00Z',
        '2027-01-01T00:15:00Z',
      ]);
    });

    it('applies half-hour offsets (Asia/Kolkata, +05:30)', () => {
      expect(fires('0 9 * * *', 'Asia/Kolkata', '2027-01-01T00:00:00Z', 2)).toEqual([
        '2027-01-01T03:30:00Z',
        '2027-01-02T03:30:00Z',
      ]);
    });

    it('uses the local date, not the UTC date, for day fields (Pacific/Kiritimati, +14:00)', () => {
      // Monday 2027-01-04 00:00 local is Sunday 10:00 UTC.
      expect(fires('0 0 * * 1', 'Pacific/Kiritimati', '2027-01-01T00:00:00Z', 1)).toEqual(['2027-01-03T10:00:00Z']);
      expect(fires('0 0 1 * *', 'Etc/GMT+12', '2027-01-01T00:00:00Z', 1)).toEqual(['2027-01-01T12:00:00Z']);
    });

    it('accepts zone aliases', () => {
      expect(fires('30 2 * * *', 'US/Eastern', '2027-03-13T12:00:00Z', 1)).toEqual(['2027-03-14T07:00:00Z']);
      expect(fires('@hourly', 'Etc/UTC', '2027-01-01T00:00:00Z', 1)).toEqual(['2027-01-01T01:00:00Z']);
    });
  });

  describe('strictly after `after`', () => {
    it('skips a fire time equal to `after`', () => {
      expect(fires('0 2 * * *', 'UTC', '2027-05-05T02:00:00Z', 1)).toEqual(['2027-05-06T02:00:00Z']);
      expect(fires('* * * * *', 'UTC', '2027-05-05T02:00:00Z', 1)).toEqual(['2027-05-05T02:01:00Z']);
    });

    it('includes a fire time 1 ms after `after`', () => {
      expect(fires('0 2 * * *', 'UTC', '2027-05-05T01:59:59.999Z', 1)).toEqual(['2027-05-05T02:00:00Z']);
    });

    it('skips the current minute when `after` has seconds', () => {
      expect(fires('* * * * *', 'UTC', '2027-05-05T02:00:00.001Z', 1)).toEqual(['2027-05-05T02:01:00Z']);
    });

    it('skips the transition slot when `after` is exactly on it', () => {
      expect(fires('30 2 * * *', NY, '2027-03-14T07:00:00Z', 1)).toEqual(['2027-03-15T06:30:00Z']);
    });

    it('chains: each result fed back as `after` yields the next one', () => {
      const expr = parseCronExpression('*/20 1-2 * * *');
      const chained: string[] = [];
      let after = new Date('2027-11-06T12:00:00Z');
      for (let i = 0; i < 12; i++) {
        const next = nextFireTime(expr, NY, after);
        expect(next).not.toBeNull();
        after = next as Date;
        chained.push(iso(after));
      }
      expect(chained).toEqual(fires('*/20 1-2 * * *', NY, '2027-11-06T12:00:00Z', 12));
    });
  });

  describe('calendar', () => {
    it('fires on February 29 only in leap years', () => {
      expect(fires('0 0 29 2 *', 'UTC', '2027-01-01T00:00:00Z', 3)).toEqual([
        '2028-02-29T00:00:00Z',
        '2032-02-29T00:00:00Z',
        '2036-02-29T00:00:00Z',
      ]);
    });

    it('skips 2100, which is not a leap year', () => {
      expect(fires('0 0 29 2 *', 'UTC', '2097-01-01T00:00:00Z', 2)).toEqual(['2104-02-29T00:00:00Z', '2108-02-29T00:00:00Z']);
    });

    it('fires on Feb 29 in a time zone too', () => {
      expect(fires('30 6 29 2 *', NY, '2027-06-01T00:00:00Z', 1)).toEqual(['2028-02-29T11:30:00Z']);
    });

    it('skips months without the day: 0 0 31 * *', () => {
      expect(fires('0 0 31 * *', 'UTC', '2027-01-31T00:00:00Z', 4)).toEqual([
        '2027-03-31T00:00:00Z',
        '2027-05-31T00:00:00Z',
        '2027-07-31T00:00:00Z',
        '2027-08-31T00:00:00Z',
      ]);
    });

    it('crosses month and year boundaries', () => {
      expect(fires('59 23 * * *', 'UTC', '2027-12-30T23:59:00Z', 2)).toEqual(['2027-12-31T23:59:00Z', '2028-01-01T23:59:00Z']);
      expect(fires('0 0 1 * *', 'UTC', '2027-12-15T00:00:00Z', 2)).toEqual(['2028-01-01T00:00:00Z', '2028-02-01T00:00:00Z']);
      expect(fires('* * * * *', 'UTC', '2027-12-31T23:59:30Z', 2)).toEqual(['2028-01-01T00:00:00Z', '2028-01-01T00:01:00Z']);
      expect(fires('0 0 * * *', 'Europe/Berlin', '2027-12-31T12:00:00Z', 1)).toEqual(['2027-12-31T23:00:00Z']);
    });

    it('expands @yearly, @monthly, @weekly, @daily, @hourly', () => {
      expect(fires('@yearly', 'UTC', '2027-03-01T00:00:00Z', 2)).toEqual(['2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z']);
      expect(fires('@annually', 'UTC', '2027-03-01T00:00:00Z', 1)).toEqual(['2028-01-01T00:00:00Z']);
      expect(fires('@monthly', 'UTC', '2027-03-15T00:00:00Z', 1)).toEqual(['2027-04-01T00:00:00Z']);
      // 2027-03-03 is a Wednesday.
      expect(fires('@weekly', 'UTC', '2027-03-03T00:00:00Z', 2)).toEqual(['2027-03-07T00:00:00Z', '2027-03-14T00:00:00Z']);
      expect(fires('@daily', 'UTC', '2027-03-03T10:00:00Z', 1)).toEqual(['2027-03-04T00:00:00Z']);
      expect(fires('@midnight', 'UTC', '2027-03-03T10:00:00Z', 1)).toEqual(['2027-03-04T00:00:00Z']);
      expect(fires('@hourly', 'UTC', '2027-03-03T10:00:00Z', 1)).toEqual(['2027-03-03T11:00:00Z']);
    });

    it('treats 7, 0 and SUN alike', () => {
      const expected = ['2027-01-03T12:00:00Z', '2027-01-10T12:00:00Z'];
      expect(fires('0 12 * * 7', 'UTC', '2027-01-01T00:00:00Z', 2)).toEqual(expected);
      expect(fires('0 12 * * 0', 'UTC', '2027-01-01T00:00:00Z', 2)).toEqual(expected);
      expect(fires('0 12 * * sun', 'UTC', '2027-01-01T00:00:00Z', 2)).toEqual(expected);
    });

    it('accepts names in ranges: weekdays only', () => {
      // 2027-01-01 is a Friday.
      expect(fires('0 9 * * MON-FRI', 'UTC', '2027-01-01T10:00:00Z', 3)).toEqual([
        '2027-01-04T09:00:00Z',
        '2027-01-05T09:00:00Z',
        '2027-01-06T09:00:00Z',
      ]);
      expect(fires('0 9 1 JUL-AUG *', 'UTC', '2027-01-01T00:00:00Z', 3)).toEqual([
        '2027-07-01T09:00:00Z',
        '2027-08-01T09:00:00Z',
        '2028-07-01T09:00:00Z',
      ]);
    });
  });

  describe('day rule', () => {
    it('OR mode: day 13 or any Friday (0 0 13 * 5)', () => {
      // 2027-08-13 is a Friday; 2027-08-06 and 2027-08-20 are Fridays.
      expect(fires('0 0 13 * 5', 'UTC', '2027-08-01T00:00:00Z', 4)).toEqual([
        '2027-08-06T00:00:00Z',
        '2027-08-13T00:00:00Z',
        '2027-08-20T00:00:00Z',
        '2027-08-27T00:00:00Z',
      ]);
      expect(fires('0 0 15 * 5', 'UTC', '2027-08-01T00:00:00Z', 3)).toEqual([
        '2027-08-06T00:00:00Z',
        '2027-08-13T00:00:00Z',
        '2027-08-15T00:00:00Z',
      ]);
    });

    it('OR mode with a full day-of-month range fires every day: 0 0 1-31 * 1', () => {
      expect(fires('0 0 1-31 * 1', 'UTC', '2027-01-01T00:00:00Z', 3)).toEqual([
        '2027-01-02T00:00:00Z',
        '2027-01-03T00:00:00Z',
        '2027-01-04T00:00:00Z',
      ]);
    });

    it('OR mode rescues an impossible date: 0 0 31 2 1 fires on February Mondays', () => {
      expect(fires('0 0 31 2 1', 'UTC', '2027-01-01T00:00:00Z', 2)).toEqual(['2027-02-01T00:00:00Z', '2027-02-08T00:00:00Z']);
    });

    it('AND mode when day-of-month starts with *: 0 0 */2 * 1 = odd days that are Mondays', () => {
      // Mondays of March 2027: 1, 8, 15, 22, 29; of April: 5, 12, 19, 26; of May: 3, ...
      expect(fires('0 0 */2 * 1', 'UTC', '2027-03-01T00:00:00Z', 4)).toEqual([
        '2027-03-15T00:00:00Z',
        '2027-03-29T00:00:00Z',
        '2027-04-05T00:00:00Z',
        '2027-04-19T00:00:00Z',
      ]);
    });

    it('AND mode when day-of-week starts with *: 0 0 1 * */2 = the 1st when it is Sun/Tue/Thu/Sat', () => {
      // 1st of 2027 months: Jan Fri, Feb Mon, Mar Mon, Apr Thu, May Sat, Jun Tue.
      expect(fires('0 0 1 * */2', 'UTC', '2027-01-01T00:00:00Z', 3)).toEqual([
        '2027-04-01T00:00:00Z',
        '2027-05-01T00:00:00Z',
        '2027-06-01T00:00:00Z',
      ]);
    });

    it('AND mode with a rare combination: Feb 1 or 29 that is a Monday (0 0 */28 2 1)', () => {
      expect(fires('0 0 */28 2 1', 'UTC', '2027-03-01T00:00:00Z', 3)).toEqual([
        '2038-02-01T00:00:00Z',
        '2044-02-01T00:00:00Z',
        '2044-02-29T00:00:00Z',
      ]);
    });
  });

  describe('steps and ranges', () => {
    it('1-10/3 in the minute field fires at 1, 4, 7, 10', () => {
      expect(fires('1-10/3 0 * * *', 'UTC', '2027-01-01T00:00:00Z', 5)).toEqual([
        '2027-01-01T00:01:00Z',
        '2027-01-01T00:04:00Z',
        '2027-01-01T00:07:00Z',
        '2027-01-01T00:10:00Z',
        '2027-01-02T00:01:00Z',
      ]);
    });

    it('*/n in the hour, day-of-month and month fields', () => {
      expect(fires('0 */8 * * *', 'UTC', '2027-01-01T00:00:00Z', 3)).toEqual([
        '2027-01-01T08:00:00Z',
        '2027-01-01T16:00:00Z',
        '2027-01-02T00:00:00Z',
      ]);
      expect(fires('0 0 */10 * *', 'UTC', '2027-01-01T00:00:00Z', 4)).toEqual([
        '2027-01-11T00:00:00Z',
        '2027-01-21T00:00:00Z',
        '2027-01-31T00:00:00Z',
        '2027-02-01T00:00:00Z',
      ]);
      expect(fires('0 0 1 */4 *', 'UTC', '2027-01-01T00:00:00Z', 3)).toEqual([
        '2027-05-01T00:00:00Z',
        '2027-09-01T00:00:00Z',
        '2028-01-01T00:00:00Z',
      ]);
      // */3 on day-of-week is Sun, Wed, Sat; 2027-01-01 is a Friday.
      expect(fires('0 0 * * */3', 'UTC', '2027-01-01T00:00:00Z', 3)).toEqual([
        '2027-01-02T00:00:00Z',
        '2027-01-03T00:00:00Z',
        '2027-01-06T00:00:00Z',
      ]);
    });

    it('combines lists of ranges and values', () => {
      expect(fires('0,45 8-9,17 * * *', 'UTC', '2027-01-01T00:00:00Z', 7)).toEqual([
        '2027-01-01T08:00:00Z',
        '2027-01-01T08:45:00Z',
        '2027-01-01T09:00:00Z',
        '2027-01-01T09:45:00Z',
        '2027-01-01T17:00:00Z',
        '2027-01-01T17:45:00Z',
        '2027-01-02T08:00:00Z',
      ]);
    });
  });

  describe('arguments', () => {
    const expr = parseCronExpression('0 * * * *');

    it('returns an empty list for count 0', () => {
      expect(nextFireTimes(expr, 'UTC', new Date(), 0)).toEqual([]);
    });

    it('rejects unknown time zones, invalid dates and bad counts with RangeError', () => {
      expect(() => nextFireTimes(expr, 'Mars/Base', new Date(), 1)).toThrow('unknown time zone "Mars/Base"');
      expect(() => nextFireTimes(expr, '+05:00', new Date(), 1)).toThrow(RangeError);
      expect(() => nextFireTimes(expr, 'UTC', new Date(Number.NaN), 1)).toThrow(RangeError);
      expect(() => nextFireTimes(expr, 'UTC', new Date(), -1)).toThrow(RangeError);
      expect(() => nextFireTimes(expr, 'UTC', new Date(), 1.5)).toThrow(RangeError);
    });
  });

  describe('ordering', () => {
    it.each([
      ['* * * * *', NY, '2027-11-06T22:00:00Z', 500],
      ['*/7 0-3 * * *', NY, '2027-11-06T00:00:00Z', 500],
      ['*/7 0-3 * * *', NY, '2027-03-13T00:00:00Z', 500],
      ['0,30 1-3 * * *', NY, '2027-03-13T00:00:00Z', 500],
      ['0,30 1-3 * * *', NY, '2027-11-06T00:00:00Z', 500],
      ['*/10 1-2 * * *', 'Australia/Lord_Howe', '2027-04-01T00:00:00Z', 500],
      ['*/10 1-2 * * *', 'Australia/Lord_Howe', '2027-09-30T00:00:00Z', 500],
      ['15 2 * * *', 'Australia/Lord_Howe', '2027-01-01T00:00:00Z', 500],
      ['@hourly', 'Europe/Berlin', '2027-10-30T00:00:00Z', 500],
      // Only 10 leap days fall within the 40-year search horizon.
      ['0 0 29 2 *', 'Europe/Berlin', '2027-01-01T00:00:00Z', 10],
    ])('%s in %s after %s: %i strictly increasing times, all after `after`', (source, zone, after, expected) => {
      const times = nextFireTimes(parseCronExpression(source), zone, new Date(after), 500).map((d) => d.getTime());
      expect(times).toHaveLength(expected);
      expect(times[0]).toBeGreaterThan(Date.parse(after));
      for (let i = 1; i < times.length; i++) {
        expect(times[i]).toBeGreaterThan(times[i - 1]);
      }
    });
  });

  describe('agrees with a minute-by-minute brute force', () => {
    const wallClock = (timeZone: string) =>
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        weekday: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
      });
    const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

    function matchesAt(expr: CronExpression, format: Intl.DateTimeFormat, instant: number): boolean {
      const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
      const dom = expr.dayOfMonth.values.includes(Number(parts.day));
      const dow = expr.dayOfWeek.values.includes(weekdays.indexOf(parts.weekday));
      return (
        expr.minute.values.includes(Number(parts.minute)) &&
        expr.hour.values.includes(Number(parts.hour)) &&
        expr.month.values.includes(Number(parts.month)) &&
        (expr.dayMatchesEither ? dom || dow : dom && dow)
      );
    }

    // Wall-clock jobs (not fixed-time) fire at every instant whose local time matches.
    it.each([
      ['*/13 * * * *', NY, '2027-03-13T00:00:00Z'],
      ['*/13 * * * *', NY, '2027-11-06T00:00:00Z'],
      ['* 1-3 * * *', 'Australia/Lord_Howe', '2027-04-02T00:00:00Z'],
      ['* 1-3 * * *', 'Australia/Lord_Howe', '2027-10-01T00:00:00Z'],
      ['*/5 2 */2 * 0', 'Europe/Berlin', '2027-03-26T00:00:00Z'],
      ['0 * 1,31 * 1', 'Europe/Berlin', '2027-10-29T00:00:00Z'],
      ['*/20 * * * *', 'America/Santiago', '2027-04-02T00:00:00Z'],
      ['*/20 * * * *', 'America/Santiago', '2027-09-03T00:00:00Z'],
    ])('%s in %s for three days after %s', (source, zone, after) => {
      const expr = parseCronExpression(source);
      const start = Date.parse(after);
      const end = start + 3 * 86_400_000;
      const format = wallClock(zone);
      const expected: number[] = [];
      for (let instant = start + 60_000; instant < end; instant += 60_000) {
        if (matchesAt(expr, format, instant)) {
          expected.push(instant);
        }
      }
      const actual = nextFireTimes(expr, zone, new Date(start), expected.length + 1).map((d) => d.getTime());
      expect(actual.slice(0, -1)).toEqual(expected);
      expect(actual[actual.length - 1]).toBeGreaterThanOrEqual(end);
    });
  });
});

describe('nextFireTime', () => {
  it('returns the first of nextFireTimes', () => {
    const next = nextFireTime(parseCronExpression('30 2 * * *'), NY, new Date('2027-03-13T12:00:00Z'));
    expect(next?.toISOString()).toBe('2027-03-14T07:00:00.000Z');
  });

  it('finds Feb 29 on a given weekday even across the 40-year gap around 2100', () => {
    // AND mode (day-of-week starts with *): Feb 29 that is a Sunday; */7 is 0 (and 7), Sunday.
    const expr = parseCronExpression('0 0 29 2 */7');
    expect(nextFireTime(expr, 'UTC', new Date('2027-01-01T00:00:00Z'))?.toISOString()).toBe('2032-02-29T00:00:00.000Z');
    expect(nextFireTime(expr, 'UTC', new Date('2088-03-01T00:00:00Z'))?.toISOString()).toBe('2128-02-29T00:00:00.000Z');
  });

  it('returns null, and fewer results, past the search horizon', () => {
    const after = new Date('+275758-06-01T00:00:00Z');
    expect(nextFireTime(parseCronExpression('0 0 29 2 *'), 'UTC', after)).toBeNull();
    expect(nextFireTimes(parseCronExpression('@yearly'), 'UTC', after, 3).map(iso)).toEqual(['+275759-01-01T00:00:00Z']);
  });

  it('computes 10,000 fire times for a mix of expressions and zones', () => {
    const expressions = [
      '*/5 * * * *',
      '0 2 * * *',
      '30 1 * * *',
      '0 * * * *',
      '0 4 * * 0',
      '0 0 1 * *',
      '0 0 29 2 *',
      '0 9 * * MON-FRI',
      '* * * * *',
      '0 0 */2 * 1',
      '15 2 * * *',
      '@yearly',
    ].map(parseCronExpression);
    const zones = ['UTC', NY, 'Europe/Berlin', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    const start = Date.parse('2027-01-01T00:00:00Z');
    let found = 0;
    for (let i = 0; i < 10_000; i++) {
      const next = nextFireTime(expressions[i % expressions.length], zones[i % zones.length], new Date(start + i * 3_607_000));
      if (next !== null) {
        found++;
      }
    }
    expect(found).toBe(10_000);
  });
});
