import { describe, expect, it } from 'vitest';
import { describeCronExpression } from './cron-description';
import { parseCronExpression } from './cron-expression';

const describeSource = (source: string) => describeCronExpression(parseCronExpression(source));

describe('describeCronExpression', () => {
  it.each([
    // times of day
    ['0 2 * * *', 'At 02:00, every day'],
    ['30 14 * * *', 'At 14:30, every day'],
    ['0,30 2 * * *', 'At 02:00 and 02:30, every day'],
    ['0 8,12,18 * * *', 'At 08:00, 12:00 and 18:00, every day'],
    ['0 9-17 * * *', 'At minute 0 past hours 9 through 17, every day'],
    ['15,45 9-10 * * *', 'At 09:15, 09:45, 10:15 and 10:45, every day'],
    // minutes and hours
    ['* * * * *', 'Every minute'],
    ['*/5 * * * *', 'Every 5 minutes'],
    ['0-59 * * * *', 'Every minute'],
    ['*/15 2 * * *', 'Every 15 minutes during hour 2, every day'],
    ['* 9-17 * * *', 'Every minute during hours 9 through 17, every day'],
    ['*/10 */3 * * *', 'Every 10 minutes during every 3rd hour, every day'],
    ['0 * * * *', 'At minute 0 past every hour'],
    ['@hourly', 'At minute 0 past every hour'],
    ['5,35 * * * *', 'At minutes 5 and 35 past every hour'],
    ['5-59/15 * * * *', 'At minutes 5, 20, 35 and 50 past every hour'],
    ['0-30/2 * * * *', 'At every 2nd minute from 0 through 30 past every hour'],
    ['0 */2 * * *', 'At minute 0 past every 2nd hour, every day'],
    ['0 */6 * * *', 'At minute 0 past hours 0, 6, 12 and 18, every day'],
    ['0 1-23/2 * * *', 'At minute 0 past every 2nd hour from 1 through 23, every day'],
    // days
    ['0 4 * * 0', 'At 04:00, only on Sunday'],
    ['0 4 * * 7', 'At 04:00, only on Sunday'],
    ['0 9 * * MON-FRI', 'At 09:00, only on Monday through Friday'],
    ['0 9 * * 1,3,5', 'At 09:00, only on Monday, Wednesday and Friday'],
    ['0 0 * * 5-7', 'At 00:00, only on Friday through Sunday'],
    ['0 0 * * */2', 'At 00:00, only on Sunday, Tuesday, Thursday and Saturday'],
    ['0 2 1 * *', 'At 02:00, on day 1 of the month'],
    ['0 2 1,15 * *', 'At 02:00, on days 1 and 15 of the month'],
    ['0 2 1-7 * *', 'At 02:00, on days 1 through 7 of the month'],
    ['0 0 */2 * *', 'At 00:00, on every 2nd day of the month'],
    ['0 0 */2 * 1', 'At 00:00, on every 2nd day of the month, only on Monday'],
    ['0 0 13 * 5', 'At 00:00, on day 13 of the month or on Friday'],
    ['0 0 1-31 * 1', 'At 00:00, every day'],
    // months
    ['0 0 29 2 *', 'At 00:00, on day 29 of the month, only in February'],
    ['0 12 * JAN-MAR *', 'At 12:00, only in January through March'],
    ['0 12 * */3 *', 'At 12:00, only in January, April, July and October'],
    ['*/30 * * 12 *', 'Every 30 minutes, only in December'],
    // macros
    ['@yearly', 'At 00:00, on day 1 of the month, only in January'],
    ['@monthly', 'At 00:00, on day 1 of the month'],
    ['@weekly', 'At 00:00, only on Sunday'],
    ['@daily', 'At 00:00, every day'],
  ])('%s -> %s', (source, description) => {
    expect(describeSource(source)).toBe(description);
  });
});
