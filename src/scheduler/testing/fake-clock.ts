import type { Clock } from '../schedule-timers';

/** A `Clock` whose time only moves when a test moves it. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date | string) {
    this.current = toTime(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Sets the time (it may go backwards: tests decide). */
  set(at: Date | string): void {
    this.current = toTime(at);
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

function toTime(at: Date | string): number {
  const time = (typeof at === 'string' ? new Date(at) : at).getTime();
  if (Number.isNaN(time)) throw new RangeError(`FakeClock: invalid date ${String(at)}`);
  return time;
}
