import { describe, expect, it } from 'vitest';
import { CronExpressionError, parseCronExpression } from './cron-expression';

const range = (from: number, to: number, step = 1): number[] => {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) {
    values.push(v);
  }
  return values;
};

function errorOf(source: string): CronExpressionError {
  try {
    parseCronExpression(source);
  } catch (error) {
    expect(error).toBeInstanceOf(CronExpressionError);
    return error as CronExpressionError;
  }
  throw new Error(`expected "${source}" to be rejected`);
}

describe('parseCronExpression', () => {
  describe('valid expressions', () => {
    it('expands * to every value of each field', () => {
      const expr = parseCronExpression('* * * * *');
      expect(expr.minute.values).toEqual(range(0, 59));
      expect(expr.hour.values).toEqual(range(0, 23));
      expect(expr.dayOfMonth.values).toEqual(range(1, 31));
      expect(expr.month.values).toEqual(range(1, 12));
      expect(expr.dayOfWeek.values).toEqual(range(0, 6));
    });

    it('parses single values, lists and ranges', () => {
      const expr = parseCronExpression('5,10-12 0,23 1,15-16 6 1-5');
      expect(expr.minute.values).toEqual([5, 10, 11, 12]);
      expect(expr.hour.values).toEqual([0, 23]);
      expect(expr.dayOfMonth.values).toEqual([1, 15, 16]);
      expect(expr.month.values).toEqual([6]);
      expect(expr.dayOfWeek.values).toEqual([1, 2, 3, 4, 5]);
    });

    it('sorts and de-duplicates list values', () => {
      expect(parseCronExpression('30,5,5,0-10/5 * * * *').minute.values).toEqual([0, 5, 10, 30]);
    });

    it('accepts the field bounds', () => {
      const expr = parseCronExpression('0-59 0-23 1-31 1-12 0-7');
      expect(expr.minute.values).toHaveLength(60);
      expect(expr.hour.values).toHaveLength(24);
      expect(expr.dayOfMonth.values).toHaveLength(31);
      expect(expr.month.values).toHaveLength(12);
      expect(expr.dayOfWeek.values).toEqual(range(0, 6));
    });

    it('applies steps to ranges: 1-10/3 is 1,4,7,10', () => {
      expect(parseCronExpression('1-10/3 * * * *').minute.values).toEqual([1, 4, 7, 10]);
      expect(parseCronExpression('0 1-10/3 * * *').hour.values).toEqual([1, 4, 7, 10]);
      expect(parseCronExpression('0 0 1-10/3 * *').dayOfMonth.values).toEqual([1, 4, 7, 10]);
      expect(parseCronExpression('0 0 * 1-10/3 *').month.values).toEqual([1, 4, 7, 10]);
      expect(parseCronExpression('0 0 * * 1-7/3').dayOfWeek.values).toEqual([0, 1, 4]);
    });

    it('applies */n from the lowest value of each field', () => {
      expect(parseCronExpression('*/15 * * * *').minute.values).toEqual([0, 15, 30, 45]);
      expect(parseCronExpression('* */6 * * *').hour.values).toEqual([0, 6, 12, 18]);
      expect(parseCronExpression('* * */10 * *').dayOfMonth.values).toEqual([1, 11, 21, 31]);
      expect(parseCronExpression('* * * */3 *').month.values).toEqual([1, 4, 7, 10]);
      expect(parseCronExpression('* * * * */2').dayOfWeek.values).toEqual([0, 2, 4, 6]);
      expect(parseCronExpression('*/7 * * * *').minute.values).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 56]);
    });

    it('accepts a step larger than the field: only the first value remains', () => {
      expect(parseCronExpression('*/60 * * * *').minute.values).toEqual([0]);
      expect(parseCronExpression('10-20/100 * * * *').minute.values).toEqual([10]);
    });

    it('treats 7 as Sunday in day-of-week', () => {
      expect(parseCronExpression('0 0 * * 7').dayOfWeek.values).toEqual([0]);
      expect(parseCronExpression('0 0 * * 0,7').dayOfWeek.values).toEqual([0]);
      expect(parseCronExpression('0 0 * * 5-7').dayOfWeek.values).toEqual([0, 5, 6]);
    });

    it('accepts month and weekday names in any case, also in ranges and with steps', () => {
      expect(parseCronExpression('0 0 * JAN,jun,Dec *').month.values).toEqual([1, 6, 12]);
      expect(parseCronExpression('0 0 * * MON-FRI').dayOfWeek.values).toEqual([1, 2, 3, 4, 5]);
      expect(parseCronExpression('0 0 * * sun,Sat').dayOfWeek.values).toEqual([0, 6]);
      expect(parseCronExpression('0 0 * mar-nov/2 *').month.values).toEqual([3, 5, 7, 9, 11]);
      expect(parseCronExpression('0 0 * * WED-7').dayOfWeek.values).toEqual([0, 3, 4, 5, 6]);
      expect(parseCronExpression('0 0 * 1-MAR *').month.values).toEqual([1, 2, 3]);
    });

    it('keeps the parsed items with names resolved', () => {
      expect(parseCronExpression('0 0 * * MON-FRI/2,7').dayOfWeek.items).toEqual([
        { wildcard: false, start: 1, end: 5, step: 2 },
        { wildcard: false, start: 7, end: 7, step: 1 },
      ]);
      expect(parseCronExpression('*/5 * * * *').minute.items).toEqual([{ wildcard: true, start: 0, end: 59, step: 5 }]);
    });

    it('accepts leading zeros', () => {
      const expr = parseCronExpression('05 09 01 02 03');
      expect([expr.minute.values, expr.hour.values, expr.dayOfMonth.values]).toEqual([[5], [9], [1]]);
    });

    it('trims the source and splits on any whitespace', () => {
      const expr = parseCronExpression('  \t0   2\t* *  1 \n');
      expect(expr.source).toBe('0   2\t* *  1');
      expect(expr.hour.values).toEqual([2]);
      expect(expr.dayOfWeek.values).toEqual([1]);
    });

    it('keeps each field text', () => {
      const expr = parseCronExpression('*/5 9-17 * JAN-MAR mon');
      expect([expr.minute.text, expr.hour.text, expr.dayOfMonth.text, expr.month.text, expr.dayOfWeek.text]).toEqual([
        '*/5',
        '9-17',
        '*',
        'JAN-MAR',
        'mon',
      ]);
    });

    it.each([
      ['@yearly', '0 0 1 1 *'],
      ['@annually', '0 0 1 1 *'],
      ['@monthly', '0 0 1 * *'],
      ['@weekly', '0 0 * * 0'],
      ['@daily', '0 0 * * *'],
      ['@midnight', '0 0 * * *'],
      ['@hourly', '0 * * * *'],
      ['@DAILY', '0 0 * * *'],
      ['  @Hourly ', '0 * * * *'],
    ])('expands the macro %s to %s', (macro, expansion) => {
      const expr = parseCronExpression(macro);
      const expanded = parseCronExpression(expansion);
      expect(expr.source).toBe(macro.trim());
      expect({ ...expr, source: '' }).toEqual({ ...expanded, source: '' });
    });

    it('accepts February 29 (leap years)', () => {
      expect(parseCronExpression('0 0 29 2 *').dayOfMonth.values).toEqual([29]);
      expect(parseCronExpression('0 0 28-31 2 *').dayOfMonth.values).toEqual([28, 29, 30, 31]);
    });

    it('accepts impossible days of the month when another listed month has them', () => {
      expect(() => parseCronExpression('0 0 31 2,3 *')).not.toThrow();
      expect(() => parseCronExpression('0 0 30 * *')).not.toThrow();
    });

    it('accepts impossible dates in OR mode, where day-of-week still fires', () => {
      expect(parseCronExpression('0 0 31 2 1').dayMatchesEither).toBe(true);
    });

    it('returns a frozen object', () => {
      const expr = parseCronExpression('0 0 * * *');
      expect(Object.isFrozen(expr)).toBe(true);
      expect(Object.isFrozen(expr.minute)).toBe(true);
      expect(Object.isFrozen(expr.minute.values)).toBe(true);
    });
  });

  describe('day rule', () => {
    it.each([
      ['0 0 1 * 1', true],
      ['0 0 1-31 * 1', true],
      ['0 0 1 * MON-FRI', true],
      ['0 0 * * 1', false],
      ['0 0 1 * *', false],
      ['0 0 * * *', false],
      ['0 0 */2 * 1', false],
      ['0 0 1 * */2', false],
      ['0 0 *,1 * 1', false],
      ['@weekly', false],
      ['@monthly', false],
    ])('%s matches days when either day field matches: %s', (source, either) => {
      expect(parseCronExpression(source).dayMatchesEither).toBe(either);
    });

    it('marks fields starting with * as wildcards', () => {
      const expr = parseCronExpression('*/5 * 1 */2 *,1');
      expect([expr.minute, expr.hour, expr.dayOfMonth, expr.month, expr.dayOfWeek].map((f) => f.wildcard)).toEqual([
        true,
        true,
        false,
        true,
        true,
      ]);
    });
  });

  describe('fixed-time jobs (DST policy)', () => {
    it.each([
      ['30 2 * * *', true],
      ['0,30 2 * * *', true],
      ['0-59 2 * * *', true],
      ['0 9-17 * * *', true],
      ['*/15 2 * * *', false],
      ['0 * * * *', false],
      ['0 */2 * * *', false],
      ['* 2 * * *', false],
      ['@daily', true],
      ['@midnight', true],
      ['@weekly', true],
      ['@monthly', true],
      ['@yearly', true],
      ['@hourly', false],
    ])('%s is fixed-time: %s', (source, fixed) => {
      expect(parseCronExpression(source).fixedTime).toBe(fixed);
    });
  });

  describe('rejected expressions', () => {
    it.each([
      // field count
      ['', 'expression is empty'],
      ['   ', 'expression is empty'],
      ['*', 'expected 5 fields, got 1'],
      ['* * * *', 'expected 5 fields, got 4'],
      ['0 * * * * *', 'expected 5 fields, got 6'],
      ['0 0 0 * * * 2027', 'expected 5 fields, got 7'],
      // macros
      ['@reboot', '@reboot is not supported'],
      ['@REBOOT', '@reboot is not supported'],
      ['@every', 'unknown macro "@every"'],
      ['@', 'unknown macro "@"'],
      ['@daily 0', 'unexpected text after @daily'],
      // out of range
      ['60 * * * *', 'minute value 60 out of range 0-59'],
      ['* 24 * * *', 'hour value 24 out of range 0-23'],
      ['* * 0 * *', 'day-of-month value 0 out of range 1-31'],
      ['* * 32 * *', 'day-of-month value 32 out of range 1-31'],
      ['* * * 0 *', 'month value 0 out of range 1-12'],
      ['* * * 13 *', 'month value 13 out of range 1-12'],
      ['* * * * 8', 'day-of-week value 8 out of range 0-7'],
      ['0-60 * * * *', 'minute value 60 out of range 0-59'],
      ['99999999999999999999 * * * *', 'minute value 99999999999999999999 out of range 0-59'],
      // ranges and steps
      ['10-5 * * * *', 'minute range 10-5 is reversed'],
      ['0 0 * * FRI-MON', 'day-of-week range FRI-MON is reversed'],
      ['0 0 * * SAT-SUN', 'day-of-week range SAT-SUN is reversed'],
      ['*/0 * * * *', 'step must be at least 1'],
      ['0-30/0 * * * *', 'step must be at least 1'],
      ['5/15 * * * *', 'step on a single value is not allowed: "5/15" (use a range such as 5-59/15)'],
      ['0 0 * JAN/2 *', 'step on a single value is not allowed: "JAN/2" (use a range such as JAN-DEC/2)'],
      ['*/ * * * *', 'invalid step in minute item "*/"'],
      ['*/x * * * *', 'invalid step in minute item "*/x"'],
      ['*/-1 * * * *', 'invalid step in minute item "*/-1"'],
      ['*/2/3 * * * *', 'invalid minute item "*/2/3"'],
      ['1-2-3 * * * *', 'invalid minute item "1-2-3"'],
      ['5- * * * *', 'invalid minute item "5-"'],
      ['-5 * * * *', 'invalid minute item "-5"'],
      ['/5 * * * *', 'invalid minute item "/5"'],
      // lists
      ['1,,2 * * * *', 'empty list item in minute field'],
      ['1, * * * *', 'empty list item in minute field'],
      [',1 * * * *', 'empty list item in minute field'],
      ['* * * * 1,', 'empty list item in day-of-week field'],
      // unsupported extensions
      ['0 0 L * *', 'unsupported syntax "L" in day-of-month field (L, W, #, ? and H are not supported)'],
      ['0 0 15W * *', 'unsupported syntax "15W" in day-of-month field (L, W, #, ? and H are not supported)'],
      ['0 0 LW * *', 'unsupported syntax "LW" in day-of-month field (L, W, #, ? and H are not supported)'],
      ['0 0 * * 5L', 'unsupported syntax "5L" in day-of-week field (L, W, #, ? and H are not supported)'],
      ['0 0 * * 1#3', 'unsupported syntax "1#3" in day-of-week field (L, W, #, ? and H are not supported)'],
      ['0 0 * * MON#2', 'unsupported syntax "MON#2" in day-of-week field (L, W, #, ? and H are not supported)'],
      ['0 0 ? * 1', 'unsupported syntax "?" in day-of-month field (L, W, #, ? and H are not supported)'],
      ['H * * * *', 'unsupported syntax "H" in minute field (L, W, #, ? and H are not supported)'],
      ['H/15 * * * *', 'unsupported syntax "H/15" in minute field (L, W, #, ? and H are not supported)'],
      ['H(0-29)/10 * * * *', 'unsupported syntax "H(0-29)/10" in minute field (L, W, #, ? and H are not supported)'],
      // names where they do not belong, unknown names, garbage
      ['0 0 * * MONDAY', 'invalid day-of-week value "MONDAY"'],
      ['0 0 * JANUARY *', 'invalid month value "JANUARY"'],
      ['0 0 * * JAN', 'invalid day-of-week value "JAN"'],
      ['0 0 * MON *', 'invalid month value "MON"'],
      ['0 0 MON * *', 'invalid day-of-month value "MON"'],
      ['a b c d e', 'invalid minute value "a"'],
      ['0 0 1.5 * *', 'invalid day-of-month value "1.5"'],
      ['0 0 +1 * *', 'invalid day-of-month value "+1"'],
      ['0x1 * * * *', 'invalid minute value "0x1"'],
      ['0 0 * * ５', 'invalid day-of-week value "５"'],
      // never fires
      ['0 0 31 2 *', 'never fires: day 31 does not exist in February'],
      ['0 0 30 2 *', 'never fires: day 30 does not exist in February'],
      ['0 0 30,31 FEB *', 'never fires: days 30 and 31 do not exist in February'],
      ['0 0 31 4,6,9,11 *', 'never fires: day 31 does not exist in April, June, September or November'],
      ['0 0 31 2 */2', 'never fires: day 31 does not exist in February'],
    ])('rejects %j: %s', (source, message) => {
      expect(errorOf(source).message).toBe(message);
    });

    it('rejects non-string input with a CronExpressionError', () => {
      expect(errorOf(undefined as unknown as string).message).toBe('expression must be a string');
    });

    it('throws errors named CronExpressionError that are Errors', () => {
      const error = errorOf('bad');
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('CronExpressionError');
    });
  });
});
