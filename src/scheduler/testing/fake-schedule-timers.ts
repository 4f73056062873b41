import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { ScheduleTimers } from '../schedule-timers';
import type { FakeClock } from './fake-clock';

interface ArmedTimer {
  key: string;
  at: Date;
  fire: () => void;
  /** Arming order, to fire timers due at the same instant in the order they were armed. */
  seq: number;
}

/** Settles every pending promise chain of already-resolved fakes (immune to vi.useFakeTimers). */
export async function flushPromises(): Promise<void> {
  await nextMacrotask();
  await nextMacrotask();
}

const MAX_FIRES_PER_ADVANCE = 10_000;

/**
 * `ScheduleTimers` driven by a `FakeClock`: nothing fires until `advanceTo`, which fires every due
 * timer in time order (those armed by a fire and already due included), moving the clock to each
 * timer's instant before firing it and letting the async work it started settle.
 */
export class FakeScheduleTimers implements ScheduleTimers {
  private readonly timers = new Map<string, ArmedTimer>();
  private seq = 0;
  /** Every `arm` call, in order. */
  readonly armed: Array<{ key: string; at: Date }> = [];
  /** Every timer fired, in order. */
  readonly fired: Array<{ key: string; at: Date }> = [];

  constructor(private readonly clock: FakeClock) {}

  get size(): number {
    return this.timers.size;
  }

  arm(key: string, at: Date, fire: () => void): void {
    const copy = new Date(at.getTime());
    this.timers.set(key, { key, at: copy, fire, seq: this.seq++ });
    this.armed.push({ key, at: copy });
  }

  disarm(key: string): void {
    this.timers.delete(key);
  }

  disarmAll(): void {
    this.timers.clear();
  }

  armedAt(key: string): Date | undefined {
    const timer = this.timers.get(key);
    return timer ? new Date(timer.at.getTime()) : undefined;
  }

  keys(): string[] {
    return [...this.timers.keys()].sort();
  }

  /** Moves the clock to `target`, firing in time order every timer due by then. */
  async advanceTo(target: Date | string): Promise<void> {
    const until = (typeof target === 'string' ? new Date(target) : target).getTime();
    if (Number.isNaN(until)) throw new RangeError(`advanceTo: invalid date ${String(target)}`);
    for (let fires = 0; ; fires += 1) {
      const due = this.nextDue(until);
      if (!due) break;
      if (fires >= MAX_FIRES_PER_ADVANCE) throw new Error(`advanceTo: more than ${MAX_FIRES_PER_ADVANCE} fires (a timer re-arming in the past?)`);
      this.timers.delete(due.key);
      if (due.at.getTime() > this.clock.now().getTime()) this.clock.set(due.at);
      this.fired.push({ key: due.key, at: due.at });
      due.fire();
      await flushPromises();
    }
    if (until > this.clock.now().getTime()) this.clock.set(new Date(until));
    await flushPromises();
  }

  private nextDue(until: number): ArmedTimer | undefined {
    let best: ArmedTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.at.getTime() > until) continue;
      if (!best || timer.at.getTime() < best.at.getTime() || (timer.at.getTime() === best.at.getTime() && timer.seq < best.seq)) {
        best = timer;
      }
    }
    return best;
  }
}
