/**
 * Parsing and validation of five-field Vixie cron (cronie) expressions.
 * Pure: no I/O, no time zones. See cron-schedule.ts for fire times.
 */

export class CronExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronExpressionError';
  }
}

/** One comma-separated item of a field: `*`, `a`, `a-b`, `*\/n` or `a-b/n`. */
export interface CronFieldItem {
  /** The item started with `*` (start/end then span the whole field). */
  readonly wildcard: boolean;
  /** As written, except names resolved to numbers; day-of-week keeps 7 (= Sunday). */
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

export interface CronField {
  /** The field as written (for a macro: its expansion). */
  readonly text: string;
  readonly items: readonly CronFieldItem[];
  /** Sorted, unique values; day-of-week uses 0-6 (7 folded into 0). */
  readonly values: readonly number[];
  /** The field starts with `*`; drives the day rule and the DST policy, as in cronie. */
  readonly wildcard: boolean;
}

export interface CronExpression {
  /** The expression as given, trimmed. */
  readonly source: string;
  readonly minute: CronField;
  readonly hour: CronField;
  readonly dayOfMonth: CronField;
  readonly month: CronField;
  readonly dayOfWeek: CronField;
  /**
   * Both day fields are restricted (neither starts with `*`): a day matches if
   * either matches. Otherwise both must match.
   */
  readonly dayMatchesEither: boolean;
  /**
   * Neither minute nor hour starts with `*`: in a DST gap the job runs once at
   * the transition, in a DST overlap only at the first occurrence.
   */
  readonly fixedTime: boolean;
}

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly nameOffset?: number;
}

const MONTH_ABBREVIATIONS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_ABBREVIATIONS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
export const MONTH_NAMES: readonly string[] = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const FIELD_SPECS: readonly FieldSpec[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTH_ABBREVIATIONS, nameOffset: 1 },
  // 7 is Sunday too, as in cronie.
  { label: 'day-of-week', min: 0, max: 7, names: DAY_ABBREVIATIONS, nameOffset: 0 },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Longest month lengths; February counts 29 because leap years exist. */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseCronExpression(source: string): CronExpression {
  if (typeof source !== 'string') {
    throw new CronExpressionError('expression must be a string');
  }
  const trimmed = source.trim();
  if (trimmed === '') {
    throw new CronExpressionError('expression is empty');
  }
  const fieldTexts = (trimmed.startsWith('@') ? expandMacro(trimmed) : trimmed).split(/\s+/);
  if (fieldTexts.length !== 5) {
    throw new CronExpressionError(`expected 5 fields, got ${fieldTexts.length}`);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fieldTexts.map((text, i) => parseField(text, FIELD_SPECS[i]));
  const dayMatchesEither = !dayOfMonth.wildcard && !dayOfWeek.wildcard;
  if (!dayMatchesEither) {
    assertDayExists(dayOfMonth, month);
  }
  return Object.freeze({
    source: trimmed,
    minute,
    hour,
    dayOfMonth,
    month,
    dayOfWeek,
    dayMatchesEither,
    fixedTime: !minute.wildcard && !hour.wildcard,
  });
}

function expandMacro(text: string): string {
  const [name, ...rest] = text.split(/\s+/);
  const lower = name.toLowerCase();
  if (lower === '@reboot') {
    throw new CronExpressionError('@reboot is not supported');
  }
  const expansion = MACROS[lower];
  if (expansion === undefined) {
    throw new CronExpressionError(`unknown macro "${name}"`);
  }
  if (rest.length > 0) {
    throw new CronExpressionError(`unexpected text after ${name}`);
  }
  return expansion;
}

function parseField(text: string, spec: FieldSpec): CronField {
  const items = text.split(',').map((item) => parseItem(item, spec));
  const values = new Set<number>();
  for (const { start, end, step } of items) {
    for (let value = start; value <= end; value += step) {
      values.add(spec.label === 'day-of-week' ? value % 7 : value);
    }
  }
  return Object.freeze({
    text,
    items: Object.freeze(items),
    values: Object.freeze([...values].sort((a, b) => a - b)),
    wildcard: text.startsWith('*'),
  });
}

function parseItem(item: string, spec: FieldSpec): CronFieldItem {
  if (item === '') {
    throw new CronExpressionError(`empty list item in ${spec.label} field`);
  }
  const slashParts = item.split('/');
  if (slashParts.length > 2) {
    throw new CronExpressionError(`invalid ${spec.label} item "${item}"`);
  }
  const [base, stepText] = slashParts;
  const step = stepText === undefined ? 1 : parseStep(stepText, item, spec);
  if (base === '*') {
    return Object.freeze({ wildcard: true, start: spec.min, end: spec.max, step });
  }
  const rangeParts = base.split('-');
  if (rangeParts.length > 2 || rangeParts.includes('')) {
    throw new CronExpressionError(`invalid ${spec.label} item "${item}"`);
  }
  if (rangeParts.length === 1) {
    const value = parseValue(base, item, spec);
    if (stepText !== undefined) {
      // cronie rejects a step on a single value; a range makes the intent explicit.
      const last = /^\d+$/.test(base) || spec.names === undefined ? String(spec.max) : spec.names[spec.names.length - 1];
      throw new CronExpressionError(
        `step on a single value is not allowed: "${item}" (use a range such as ${base}-${last}/${stepText})`,
      );
    }
    return Object.freeze({ wildcard: false, start: value, end: value, step });
  }
  const start = parseValue(rangeParts[0], item, spec);
  const end = parseValue(rangeParts[1], item, spec);
  if (end < start) {
    throw new CronExpressionError(`${spec.label} range ${base} is reversed`);
  }
  return Object.freeze({ wildcard: false, start, end, step });
}

function parseStep(text: string, item: string, spec: FieldSpec): number {
  if (!/^\d+$/.test(text)) {
    throw new CronExpressionError(`invalid step in ${spec.label} item "${item}"`);
  }
  const step = Number(text);
  if (step < 1) {
    throw new CronExpressionError('step must be at least 1');
  }
  return step;
}

function parseValue(token: string, item: string, spec: FieldSpec): number {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) {
      throw new CronExpressionError(`${spec.label} value ${token} out of range ${spec.min}-${spec.max}`);
    }
    return value;
  }
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) {
    return index + (spec.nameOffset ?? 0);
  }
  // Quartz/Jenkins extensions: L, W, LW, 5L, 15W, 1#3, ?, H, H(0-29).
  if (/[#?()]/.test(token) || /^[\dLWH]*[LWH][\dLWH]*$/i.test(token)) {
    throw new CronExpressionError(`unsupported syntax "${item}" in ${spec.label} field (L, W, #, ? and H are not supported)`);
  }
  throw new CronExpressionError(`invalid ${spec.label} value "${token}"`);
}

/** In AND mode day-of-week cannot rescue a day-of-month that never occurs in the allowed months. */
function assertDayExists(dayOfMonth: CronField, month: CronField): void {
  const possible = month.values.some((m) => dayOfMonth.values[0] <= MAX_DAYS_IN_MONTH[m - 1]);
  if (possible) {
    return;
  }
  const days = dayOfMonth.values;
  const daysText = days.length === 1 ? `day ${days[0]} does not exist` : `days ${joinWords(days.map(String), 'and')} do not exist`;
  const monthsText = joinWords(month.values.map((m) => MONTH_NAMES[m - 1]), 'or');
  throw new CronExpressionError(`never fires: ${daysText} in ${monthsText}`);
}

function joinWords(words: readonly string[], conjunction: string): string {
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}
