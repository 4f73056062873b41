/**
 * Short English description of a cron expression, e.g. "At 02:00, every day",
 * "Every 5 minutes", "At 04:00, only on Sunday".
 */

import { MONTH_NAMES, type CronExpression, type CronField } from './cron-expression';

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Above this many times of day, a list of "HH:MM" stops being readable. */
const MAX_LISTED_TIMES = 4;
/** Stepped fields with at most this many values are described by listing them. */
const MAX_LISTED_VALUES = 6;

interface Vocabulary {
  readonly size: number;
  readonly singular: string;
  readonly plural: string;
  readonly format: (value: number) => string;
}

const MINUTES: Vocabulary = { size: 60, singular: 'minute', plural: 'minutes', format: String };
const HOURS: Vocabulary = { size: 24, singular: 'hour', plural: 'hours', format: String };
const DAYS_OF_MONTH: Vocabulary = { size: 31, singular: 'day', plural: 'days', format: String };
const MONTHS: Vocabulary = { size: 12, singular: '', plural: '', format: (m) => MONTH_NAMES[m - 1] };
const DAYS_OF_WEEK: Vocabulary = { size: 7, singular: '', plural: '', format: (d) => DAY_NAMES[d % 7] };

export function describeCronExpression(expr: CronExpression): string {
  const clauses = [describeTime(expr), ...describeDays(expr)];
  if (clauses.length === 1 && !isFull(expr.hour, HOURS)) {
    clauses.push('every day');
  }
  return clauses.join(', ');
}

function describeTime({ minute, hour }: CronExpression): string {
  const timeCount = minute.values.length * hour.values.length;
  if (!minute.wildcard && !hour.wildcard && timeCount <= MAX_LISTED_TIMES) {
    const times = hour.values.flatMap((h) => minute.values.map((m) => `${pad(h)}:${pad(m)}`));
    return `At ${joinWords(times, 'and')}`;
  }
  const everyHour = isFull(hour, HOURS);
  const minuteStep = uniformStep(minute, MINUTES);
  if (minuteStep !== undefined) {
    const every = minuteStep === 1 ? 'Every minute' : `Every ${minuteStep} minutes`;
    return everyHour ? every : `${every} during ${describeSet(hour, HOURS)}`;
  }
  return `At ${describeSet(minute, MINUTES)} past ${everyHour ? 'every hour' : describeSet(hour, HOURS)}`;
}

function describeDays({ dayOfMonth, month, dayOfWeek, dayMatchesEither }: CronExpression): string[] {
  const clauses: string[] = [];
  const anyDayOfMonth = isFull(dayOfMonth, DAYS_OF_MONTH);
  const anyDayOfWeek = isFull(dayOfWeek, DAYS_OF_WEEK);
  const dayOfMonthClause = `on ${describeSet(dayOfMonth, DAYS_OF_MONTH)} of the month`;
  const dayOfWeekNames = describeSet(dayOfWeek, DAYS_OF_WEEK);
  if (dayMatchesEither) {
    // Either field matching is enough, so a full field means every day.
    if (!anyDayOfMonth && !anyDayOfWeek) {
      clauses.push(`${dayOfMonthClause} or on ${dayOfWeekNames}`);
    }
  } else {
    if (!anyDayOfMonth) {
      clauses.push(dayOfMonthClause);
    }
    if (!anyDayOfWeek) {
      clauses.push(`only on ${dayOfWeekNames}`);
    }
  }
  if (!isFull(month, MONTHS)) {
    clauses.push(`only in ${describeSet(month, MONTHS)}`);
  }
  return clauses;
}

/** A noun phrase for a restricted field: "minute 5", "hours 9 through 17", "every 2nd day", "Monday and Friday". */
function describeSet(field: CronField, vocabulary: Vocabulary): string {
  const { values, items } = field;
  const unit = (count: number) => (count === 1 ? vocabulary.singular : vocabulary.plural);
  const withUnit = (count: number, text: string) => (unit(count) === '' ? text : `${unit(count)} ${text}`);
  if (values.length === 1) {
    return withUnit(1, vocabulary.format(values[0]));
  }
  const stepped = items.some((item) => item.step > 1);
  if (stepped && items.length === 1 && values.length > MAX_LISTED_VALUES) {
    const [{ wildcard, start, end, step }] = items;
    // Only minutes, hours and days of the month have enough values to get here.
    const every = `every ${ordinal(step)} ${vocabulary.singular}`;
    return wildcard ? every : `${every} from ${vocabulary.format(start)} through ${vocabulary.format(end)}`;
  }
  const parts = stepped
    ? values.map(vocabulary.format)
    : items.map(({ start, end }) =>
        start === end ? vocabulary.format(start) : `${vocabulary.format(start)} through ${vocabulary.format(end)}`,
      );
  return withUnit(values.length, joinWords([...new Set(parts)], 'and'));
}

/** The step of a field that is `*` or `*\/n` in effect (every value from the first), if any. */
function uniformStep(field: CronField, vocabulary: Vocabulary): number | undefined {
  if (isFull(field, vocabulary)) {
    return 1;
  }
  const { items } = field;
  return items.length === 1 && items[0].wildcard ? items[0].step : undefined;
}

function isFull(field: CronField, vocabulary: Vocabulary): boolean {
  return field.values.length === vocabulary.size;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function joinWords(words: readonly string[], conjunction: string): string {
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}
