import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

/** Node's setTimeout fires at once for delays above this (about 24.8 days): longer waits are chained. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export const CLOCK = Symbol('Clock');
export const SCHEDULE_TIMERS = Symbol('ScheduleTimers');

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * One-shot timers keyed by task, armed at instants the cron evaluator computes. The scheduling
 * logic depends on this interface only, so it is tested with a fake clock and fake timers.
 */
export interface ScheduleTimers {
  /** Calls `fire` at `at` (at once if it has passed), replacing the key's previous timer. */
  arm(key: string, at: Date, fire: () => void): void;
  disarm(key: string): void;
  disarmAll(): void;
  readonly size: number;
}

/** `ScheduleTimers` on @nestjs/schedule's SchedulerRegistry, so the jobs are visible there. */
@Injectable()
export class RegistryScheduleTimers implements ScheduleTimers {
  private readonly keys = new Set<string>();

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly clock: Clock = systemClock,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  arm(key: string, at: Date, fire: () => void): void {
    this.disarm(key);
    const delay = Math.max(0, at.getTime() - this.clock.now().getTime());
    const step = Math.min(delay, MAX_TIMER_DELAY_MS);
    const timer = setTimeout(() => {
      this.registry.deleteTimeout(this.name(key));
      this.keys.delete(key);
      if (step < delay) this.arm(key, at, fire);
      else fire();
    }, step);
    // Timers must not keep a process alive that is otherwise shutting down.
    timer.unref();
    this.registry.addTimeout(this.name(key), timer);
    this.keys.add(key);
  }

  disarm(key: string): void {
    if (!this.keys.delete(key)) return;
    this.registry.deleteTimeout(this.name(key));
  }

  disarmAll(): void {
    for (const key of [...this.keys]) this.disarm(key);
  }

  private name(key: string): string {
    return `task:${key}`;
  }
}
