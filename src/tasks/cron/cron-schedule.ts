/**
 * Fire times of a parsed cron expression in an IANA time zone, with cron(8)'s
 * daylight-saving policy:
 * - fixed-time jobs (see CronExpression.fixedTime) whose wall time is skipped run
 *   once at the transition instant; in a repeated interval they run at the first
 *   occurrence only;
 * - other jobs follow the wall clock: skipped wall times do not run, repeated
 *   ones run once per UTC instant.
 * Wall times landing on the same UTC instant are one slot.
 *
 * Days are handled as "local day numbers": days since 1970-01-01 of the local
 * calendar, so a local wall time is `day * DAY_MS + time of day` on a UTC clock.
 */

import type { CronExpression } from './cron-expression';
import { isValidTimeZone, utcOffsetAt } from './time-zone';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * How far ahead to look. Feb 29 on a given weekday (AND mode) recurs every 28
 * years, but across a skipped leap year (2100) the gap reaches 40 years.
 */
const SEARCH_YEARS = 40;
/** The last whole year a Date can represent (the range ends in September 275760). */
const LAST_REPRESENTABLE_YEAR = 275_759;

/** UTC offsets lie within -12:00..+14:00, so a local day's instants lie within these margins. */
const MAX_OFFSET_MS = 14 * HOUR_MS;
const MIN_OFFSET_MS = -12 * HOUR_MS;

/**
 * Offsets around one local day. Equal offsets mean no transition; otherwise
 * `before` applies to instants < `transition` and `after` from it on.
 */
interface DayOffsets {
  readonly before: number;
  readonly after: number;
  readonly transition: number;
}

// Many tasks share a few zones and days; each cached day costs two Intl calls
// (plus a binary search on transition days). Bounded so a long-running process stays small.
const DAY_CACHE_LIMIT = 2048;
const dayOffsetCache = new Map<string, Map<number, DayOffsets>>();

const ALL_DAYS: readonly number[] = Array.from({ length: 31 }, (_, i) => i + 1);

export function nextFireTime(expr: CronExpression, timeZone: string, after: Date): Date | null {
  return nextFireTimes(expr, timeZone, after, 1)[0] ?? null;
}

/**
 * Up to `count` fire times strictly after `after`, ascending and unique. Fewer
 * are returned only if the search horizon (SEARCH_YEARS) runs out.
 */
export function nextFireTimes(expr: CronExpression, timeZone: string, after: Date, count: number): Date[] {
  if (!isValidTimeZone(timeZone)) {
    throw new RangeError(`unknown time zone "${timeZone}"`);
  }
  const start = after.getTime();
  if (Number.isNaN(start)) {
    throw new RangeError('"after" is an invalid date');
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
  const results: Date[] = [];
  if (count === 0) {
    return results;
  }
  const firstDay = Math.floor((start + utcOffsetAt(timeZone, start)) / DAY_MS);
  const lastYear = Math.min(new Date(firstDay * DAY_MS).getUTCFullYear() + SEARCH_YEARS, LAST_REPRESENTABLE_YEAR);
  let cursor = start;
  for (let day = nextMatchingDay(expr, firstDay, lastYear); day !== null; day = nextMatchingDay(expr, day + 1, lastYear)) {
    cursor = collectDay(expr, timeZone, day, cursor, count, results);
    if (results.length === count) {
      break;
    }
  }
  return results;
}

/** First local day number >= `from` matching the month and day rules, or null past `lastYear`. */
function nextMatchingDay(expr: CronExpression, from: number, lastYear: number): number | null {
  const { dayOfMonth, month, dayOfWeek, dayMatchesEither } = expr;
  // In AND mode only the listed days of the month can match: no need to visit the others.
  const onlyListedDays = !dayMatchesEither && !dayOfMonth.wildcard;
  const date = new Date(from * DAY_MS);
  let year = date.getUTCFullYear();
  let monthIndex = date.getUTCMonth();
  let firstDate = date.getUTCDate();
  while (year <= lastYear) {
    if (month.values.includes(monthIndex + 1)) {
      const monthStart = Date.UTC(year, monthIndex, 1) / DAY_MS;
      const length = daysInMonth(year, monthIndex);
      const candidates = onlyListedDays ? dayOfMonth.values : ALL_DAYS;
      for (const dateOfMonth of candidates) {
        if (dateOfMonth < firstDate) {
          continue;
        }
        if (dateOfMonth > length) {
          break;
        }
        const day = monthStart + dateOfMonth - 1;
        // Day 0 (1970-01-01) was a Thursday.
        const weekday = (((day + 4) % 7) + 7) % 7;
        const domMatches = dayOfMonth.values.includes(dateOfMonth);
        const dowMatches = dayOfWeek.values.includes(weekday);
        if (dayMatchesEither ? domMatches || dowMatches : domMatches && dowMatches) {
          return day;
        }
      }
    }
    firstDate = 1;
    monthIndex += 1;
    if (monthIndex === 12) {
      monthIndex = 0;
      year += 1;
    }
  }
  return null;
}

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/** Appends the day's fire times after `cursor` to `results` (up to `count`); returns the new cursor. */
function collectDay(
  expr: CronExpression,
  timeZone: string,
  day: number,
  cursor: number,
  count: number,
  results: Date[],
): number {
  const dayWall = day * DAY_MS;
  const offsets = offsetsAround(timeZone, day);
  const minutes = expr.minute.values;
  const lastMinuteMs = minutes[minutes.length - 1] * MINUTE_MS;

  if (offsets.before === offsets.after) {
    // No transition: wall time maps to exactly one instant, in order.
    const offset = offsets.before;
    for (const hour of expr.hour.values) {
      const hourStart = dayWall + hour * HOUR_MS - offset;
      if (hourStart + lastMinuteMs <= cursor) {
        continue;
      }
      for (const minute of minutes) {
        const instant = hourStart + minute * MINUTE_MS;
        if (instant > cursor) {
          results.push(new Date(instant));
          cursor = instant;
          if (results.length === count) {
            return cursor;
          }
        }
      }
    }
    return cursor;
  }

  // Transition day: overlaps reorder instants relative to wall times, so collect then sort.
  const instants: number[] = [];
  for (const hour of expr.hour.values) {
    for (const minute of minutes) {
      const wall = dayWall + hour * HOUR_MS + minute * MINUTE_MS;
      const beforeInstant = wall - offsets.before;
      const afterInstant = wall - offsets.after;
      const existsBefore = beforeInstant < offsets.transition;
      const existsAfter = afterInstant >= offsets.transition;
      if (existsBefore && existsAfter) {
        // Repeated wall time (the clock went back): the first occurrence is before the transition.
        instants.push(beforeInstant);
        if (!expr.fixedTime) {
          instants.push(afterInstant);
        }
      } else if (existsBefore) {
        instants.push(beforeInstant);
      } else if (existsAfter) {
        instants.push(afterInstant);
      } else if (expr.fixedTime) {
        // Skipped wall time: a fixed-time job runs at the first instant after the jump.
        instants.push(offsets.transition);
      }
    }
  }
  instants.sort((a, b) => a - b);
  for (const instant of instants) {
    if (instant > cursor) {
      results.push(new Date(instant));
      cursor = instant;
      if (results.length === count) {
        break;
      }
    }
  }
  return cursor;
}

/**
 * UTC offsets in effect for the instants a local day can map to. Assumes at most
 * one transition within that ~2.5-day window, which holds for real zones.
 */
function offsetsAround(timeZone: string, day: number): DayOffsets {
  let zoneCache = dayOffsetCache.get(timeZone);
  if (zoneCache === undefined) {
    zoneCache = new Map();
    dayOffsetCache.set(timeZone, zoneCache);
  }
  const cached = zoneCache.get(day);
  if (cached !== undefined) {
    return cached;
  }
  const low = day * DAY_MS - MAX_OFFSET_MS;
  const high = (day + 1) * DAY_MS - MIN_OFFSET_MS;
  const before = utcOffsetAt(timeZone, low);
  const after = utcOffsetAt(timeZone, high);
  const offsets = { before, after, transition: before === after ? high : findTransition(timeZone, low, high, before) };
  if (zoneCache.size >= DAY_CACHE_LIMIT) {
    zoneCache.clear();
  }
  zoneCache.set(day, offsets);
  return offsets;
}

/** Binary search (to the second, where tz transitions fall) for the first instant in (low, high] whose offset differs from `before`. */
function findTransition(timeZone: string, low: number, high: number, before: number): number {
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (utcOffsetAt(timeZone, middle) === before) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return high;
}
