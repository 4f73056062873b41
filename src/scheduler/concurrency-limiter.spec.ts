import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { flushPromises } from './testing/fake-schedule-timers';

/** An acquire whose settlement can be observed without awaiting it. */
function track(promise: Promise<void>) {
  const state: { status: 'pending' | 'granted' | 'rejected'; reason?: unknown } = { status: 'pending' };
  promise.then(
    () => (state.status = 'granted'),
    (reason: unknown) => {
      state.status = 'rejected';
      state.reason = reason;
    },
  );
  return state;
}

const signal = () => new AbortController().signal;

describe('ConcurrencyLimiter', () => {
  it('grants up to the limit at once and queues the rest', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const a = track(limiter.acquire(signal()));
    const b = track(limiter.acquire(signal()));
    const c = track(limiter.acquire(signal()));
    await flushPromises();

    expect([a.status, b.status, c.status]).toEqual(['granted', 'granted', 'pending']);
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(1);
  });

  it('hands released slots to waiters in arrival order (FIFO)', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire(signal());
    const order: string[] = [];
    const waiters = ['b', 'c', 'd'].map((name) => limiter.acquire(signal()).then(() => order.push(name)));
    await flushPromises();
    expect(order).toEqual([]);
    expect(limiter.queued).toBe(3);

    limiter.release();
    await flushPromises();
    expect(order).toEqual(['b']);
    limiter.release();
    await flushPromises();
    expect(order).toEqual(['b', 'c']);
    limiter.release();
    await Promise.all(waiters);
    expect(order).toEqual(['b', 'c', 'd']);
    expect(limiter.running).toBe(1);
    expect(limiter.queued).toBe(0);
  });

  it('release passes the slot straight to the next waiter, and frees it when nobody waits', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire(signal());
    const next = track(limiter.acquire(signal()));

    limiter.release();
    await flushPromises();
    expect(next.status).toBe('granted');
    expect(limiter.running).toBe(1);
    expect(limiter.queued).toBe(0);

    limiter.release();
    expect(limiter.running).toBe(0);
    // A newcomer gets the freed slot at once.
    const newcomer = track(limiter.acquire(signal()));
    await flushPromises();
    expect(newcomer.status).toBe('granted');
  });

  it('a newcomer cannot overtake a waiter the slot was passed to', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire(signal());
    const waiter = track(limiter.acquire(signal()));
    limiter.release();
    const newcomer = track(limiter.acquire(signal()));
    await flushPromises();
    expect(waiter.status).toBe('granted');
    expect(newcomer.status).toBe('pending');
    expect(limiter.running).toBe(1);
  });

  it('abort while queued removes the waiter and rejects with the signal’s reason', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire(signal());
    const controller = new AbortController();
    const aborted = track(limiter.acquire(controller.signal));
    const after = track(limiter.acquire(signal()));
    await flushPromises();
    expect(limiter.queued).toBe(2);

    const reason = new Error('cancelled');
    controller.abort(reason);
    await flushPromises();
    expect(aborted.status).toBe('rejected');
    expect(aborted.reason).toBe(reason);
    expect(limiter.queued).toBe(1);

    // The slot goes to the next waiter, not the aborted one.
    limiter.release();
    await flushPromises();
    expect(after.status).toBe('granted');
    expect(limiter.running).toBe(1);
    expect(limiter.queued).toBe(0);
  });

  it('rejects with a string reason as given (the runs service aborts with reasons like "cancelled")', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire(signal());
    const controller = new AbortController();
    const pending = limiter.acquire(controller.signal);
    controller.abort('interrupted');
    await expect(pending).rejects.toBe('interrupted');
  });

  it('an already-aborted signal rejects at once, even with a free slot, and takes nothing', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const controller = new AbortController();
    const reason = new Error('too late');
    controller.abort(reason);

    await expect(limiter.acquire(controller.signal)).rejects.toBe(reason);
    expect(limiter.running).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('aborting after the slot was granted changes nothing', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire(signal());
    const controller = new AbortController();
    const waiter = track(limiter.acquire(controller.signal));
    limiter.release();
    await flushPromises();
    expect(waiter.status).toBe('granted');

    controller.abort(new Error('late abort'));
    await flushPromises();
    expect(waiter.status).toBe('granted');
    expect(limiter.running).toBe(1);
    expect(limiter.queued).toBe(0);
  });
});
