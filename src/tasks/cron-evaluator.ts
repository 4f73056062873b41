import { Injectable } from '@nestjs/common';
import { InvalidCronExpressionError, InvalidTimezoneError } from '../common/errors/domain-errors';
import {
  CronExpressionError,
  describeCronExpression,
  isValidTimeZone,
  nextFireTime,
  nextFireTimes,
  parseCronExpression,
  type CronExpression,
} from './cron';

/**
 * The one evaluator behind validation, `nextRun`, the preview and (later) the scheduler's
 * firing, so what the API shows is what runs.
 */
@Injectable()
export class CronEvaluator {
  /** Checks the expression, then the time zone: the order in which the API reports them. */
  parse(expression: string, timezone: string): CronExpression {
    let parsed: CronExpression;
    try {
      parsed = parseCronExpression(expression);
    } catch (error) {
      if (error instanceof CronExpressionError) throw new InvalidCronExpressionError(error.message);
      throw error;
    }
    if (!isValidTimeZone(timezone)) throw new InvalidTimezoneError(timezone);
    return parsed;
  }

  nextRun(expression: string, timezone: string, after: Date): Date | null {
    return nextFireTime(this.parse(expression, timezone), timezone, after);
  }

  preview(expression: string, timezone: string, count: number, after: Date): { description: string; nextRuns: Date[] } {
    const parsed = this.parse(expression, timezone);
    return { description: describeCronExpression(parsed), nextRuns: nextFireTimes(parsed, timezone, after, count) };
  }
}
