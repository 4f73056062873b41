export {
  CronExpressionError,
  parseCronExpression,
  type CronExpression,
  type CronField,
  type CronFieldItem,
} from './cron-expression';
export { nextFireTime, nextFireTimes } from './cron-schedule';
export { describeCronExpression } from './cron-description';
export { isValidTimeZone } from './time-zone';
