import { SchedulerRegistry } from '@nestjs/schedule';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, RegistryScheduleTimers } from './schedule-timers';

const START = new Date('2027-01-01T00:00:00Z');
const DAY_MS = 86_400_000;

const at = (offsetMs: number): Date => new Date(START.getTime() + offsetMs);

describe('RegistryScheduleTimers', () => {
  let registry: SchedulerRegistry;
  let timers: RegistryScheduleTimers;
  /** The instants (Date.now()) at which each key fired. */
  let fired: Array<[string, string]>;
  const fire = (key: string) => () => {
    fired.push([key, new Date().toISOString()]);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(START);
    registry = new SchedulerRegistry();
    timers = new RegistryScheduleTimers(registry);
    fired = [];
  });

  afterEach(() => {
    timers.disarmAll();
    vi.useRealTimers();
  });

  it('fires at the instant, not before, and then forgets the timer', () => {
    timers.arm('a', at(5_000), fire('a'));
    expect(registry.getTimeouts()).toEqual(['task:a']);
    expect(timers.size).toBe(1);

    vi.advanceTimersByTime(4_999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['a', '2027-01-01T00:00:05.000Z']]);
    expect(registry.getTimeouts()).toEqual([]);
    expect(timers.size).toBe(0);

    vi.advanceTimersByTime(DAY_MS);
    expect(fired).toHaveLength(1);
  });

  it('re-arming a key replaces its timer', () => {
    timers.arm('a', at(10_000), fire('first'));
    timers.arm('a', at(20_000), fire('second'));
    expect(registry.getTimeouts()).toEqual(['task:a']);
    expect(timers.size).toBe(1);

    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([['second', '2027-01-01T00:00:20.000Z']]);
    vi.advanceTimersByTime(DAY_MS);
    expect(fired).toHaveLength(1);
  });

  it('re-arming earlier than the current timer fires at the earlier instant', () => {
    timers.arm('a', at(20_000), fire('late'));
    timers.arm('a', at(10_000), fire('early'));
    vi.advanceTimersByTime(DAY_MS);
    expect(fired).toEqual([['early', '2027-01-01T00:00:10.000Z']]);
  });

  it('disarm prevents firing and removes the timeout from the registry', () => {
    timers.arm('a', at(5_000), fire('a'));
    timers.arm('b', at(5_000), fire('b'));
    timers.disarm('a');
    expect(registry.getTimeouts()).toEqual(['task:b']);
    expect(timers.size).toBe(1);

    vi.advanceTimersByTime(5_000);
    expect(fired).toEqual([['b', '2027-01-01T00:00:05.000Z']]);
  });

  it('disarm of an unknown or already fired key is a no-op', () => {
    expect(() => timers.disarm('never-armed')).not.toThrow();
    timers.arm('a', at(1_000), fire('a'));
    vi.advanceTimersByTime(1_000);
    expect(() => timers.disarm('a')).not.toThrow();
    expect(timers.size).toBe(0);
  });

  it('disarmAll disarms every timer', () => {
    for (const key of ['a', 'b', 'c']) timers.arm(key, at(1_000), fire(key));
    expect(timers.size).toBe(3);
    timers.disarmAll();
    expect(timers.size).toBe(0);
    expect(registry.getTimeouts()).toEqual([]);
    vi.advanceTimersByTime(DAY_MS);
    expect(fired).toEqual([]);
  });

  it('chains a wait longer than setTimeout allows: 60 days ahead fires at 60 days, not at 24.8', () => {
    expect(MAX_TIMER_DELAY_MS).toBe(2 ** 31 - 1);
    const target = at(60 * DAY_MS);
    timers.arm('far', target, fire('far'));

    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]);
    // Still armed (the next link of the chain), still visible in the registry.
    expect(registry.getTimeouts()).toEqual(['task:far']);
    expect(timers.size).toBe(1);

    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]);

    vi.advanceTimersByTime(target.getTime() - Date.now() - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['far', '2027-03-02T00:00:00.000Z']]);
    expect(timers.size).toBe(0);
    expect(registry.getTimeouts()).toEqual([]);
  });

  it('a chained wait can be disarmed between links', () => {
    timers.arm('far', at(60 * DAY_MS), fire('far'));
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
    timers.disarm('far');
    expect(registry.getTimeouts()).toEqual([]);
    vi.advanceTimersByTime(90 * DAY_MS);
    expect(fired).toEqual([]);
  });

  it('a chained wait can be re-armed between links', () => {
    timers.arm('far', at(60 * DAY_MS), fire('far'));
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
    timers.arm('far', at(40 * DAY_MS), fire('nearer'));
    vi.advanceTimersByTime(90 * DAY_MS);
    expect(fired).toEqual([['nearer', '2027-02-10T00:00:00.000Z']]);
  });

  it('a delay of exactly MAX_TIMER_DELAY_MS fires once, at that instant', () => {
    timers.arm('edge', at(MAX_TIMER_DELAY_MS), fire('edge'));
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['edge', at(MAX_TIMER_DELAY_MS).toISOString()]]);
  });

  it('an instant that has passed fires at once (on the next timer turn)', () => {
    timers.arm('late', at(-60_000), fire('late'));
    timers.arm('now', at(0), fire('now'));
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([
      ['late', '2027-01-01T00:00:00.000Z'],
      ['now', '2027-01-01T00:00:00.000Z'],
    ]);
    expect(timers.size).toBe(0);
  });

  it('a fire callback may re-arm its own key (as the scheduler does for the next slot)', () => {
    let count = 0;
    const everyMinute = () => {
      count += 1;
      fired.push(['tick', new Date().toISOString()]);
      if (count < 3) timers.arm('tick', new Date(Date.now() + 60_000), everyMinute);
    };
    timers.arm('tick', at(60_000), everyMinute);
    vi.advanceTimersByTime(10 * 60_000);
    expect(fired).toEqual([
      ['tick', '2027-01-01T00:01:00.000Z'],
      ['tick', '2027-01-01T00:02:00.000Z'],
      ['tick', '2027-01-01T00:03:00.000Z'],
    ]);
    expect(timers.size).toBe(0);
  });

  it('size counts armed keys', () => {
    expect(timers.size).toBe(0);
    timers.arm('a', at(1_000), fire('a'));
    timers.arm('b', at(2_000), fire('b'));
    timers.arm('b', at(3_000), fire('b'));
    expect(timers.size).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(timers.size).toBe(1);
    timers.disarm('b');
    expect(timers.size).toBe(0);
  });

  it('uses the injected clock to compute the delay', () => {
    const clock = { now: () => new Date(START.getTime() - 30_000) };
    const skewed = new RegistryScheduleTimers(registry, clock);
    skewed.arm('a', at(0), fire('a'));
    vi.advanceTimersByTime(29_999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveLength(1);
    skewed.disarmAll();
  });

  it('does not keep the process alive (timers are unref’d)', () => {
    timers.arm('a', at(DAY_MS), fire('a'));
    const timeout = registry.getTimeout<NodeJS.Timeout>('task:a');
    expect(timeout.hasRef()).toBe(false);
  });
});
