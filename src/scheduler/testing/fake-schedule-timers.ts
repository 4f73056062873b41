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

const FLUSH_ROUNDS = 5;

/**
 * Settles every pending promise chain of already-resolved fakes, and the `setImmediate` callbacks
 * code under test queued (with the microtasks they start): several rounds of a macrotask hop, so a
 * chain that itself hops through `setImmediate` settles too. Immune to vi.useFakeTimers
 * (node:timers/promises is not faked).
 */
export async function flushPromises(): Promise<void> {
  for (let round = 0; round < FLUSH_ROUNDS; round += 1) await nextMacrotask();
}

const MAX_FIRES_PER_ADVANCE = 10_000;

/**
 * `ScheduleTimers` driven by a `FakeClock`: nothing fires until `advanceTo`, which fires every due
 * timer in time order (those armed by a fire and already due included), moving the clock to each
 * timer's instant before firing it and letting the async work it started settle. As in Node's
 * timers phase, the timers due at one instant fire in the same synchronous turn, in arming order,
 * before anything queued with `setImmediate` (or a promise) runs.
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
    let fires = 0;
    for (let first = this.nextDue(until); first; first = this.nextDue(until)) {
      const at = first.at.getTime();
      if (at > this.clock.now().getTime()) this.clock.set(first.at);
      // Every timer due at this instant, without yielding in between.
      for (let due: ArmedTimer | undefined = first; due && due.at.getTime() === at; due = this.nextDue(at)) {
        if (fires >= MAX_FIRES_PER_ADVANCE) throw new Error(`advanceTo: more than ${MAX_FIRES_PER_ADVANCE} fires (a timer re-arming in the past?)`);
        fires += 1;
        this.timers.delete(due.key);
        this.fired.push({ key: due.key, at: due.at });
        due.fire();
      }
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
