import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock, type MockInstance } from 'vitest';
import type { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { CronEvaluator } from '../tasks/cron-evaluator';
import type { Task } from '../tasks/entities/task.entity';
import type { ExecutionsRepository } from '../tasks/executions.repository';
import type { TaskChange, TaskChanges } from '../tasks/task-changes';
import type { TaskSchedule, TasksRepository } from '../tasks/tasks.repository';
import type { RunsService } from './runs.service';
import { SchedulerService } from './scheduler.service';
import type { SchedulerRepository } from './scheduler.repository';
import type { TaskChangesListener } from './task-changes.listener';
import { FakeClock } from './testing/fake-clock';
import { FakeScheduleTimers, flushPromises } from './testing/fake-schedule-timers';

const NY = 'America/New_York';
const HOUR_MS = 3_600_000;
const REPLICA = 'replica-a';

type Trigger = 'schedule' | 'catch-up';

interface TestConfig {
  schedulerEnabled: boolean;
  replicaId: string;
  catchUpWindowMs: number;
  reconcileIntervalMs: number;
  schedulerTickMs: number;
  historyMaxAgeMs: number;
  shutdownGraceMs: number;
}

function makeTask(id: string, cronExpression: string, overrides: Partial<Task> = {}): Task {
  return {
    id,
    name: id,
    type: 'custom',
    enabled: true,
    projectId: 'project-1',
    cronExpression,
    timezone: 'UTC',
    config: {} as Task['config'],
    timeoutSeconds: null,
    nextRun: null,
    scheduledFrom: new Date('2027-01-01T00:00:00Z'),
    revision: 1,
    lastRun: null,
    lastStatus: null,
    createdAt: new Date('2027-01-01T00:00:00Z'),
    updatedAt: new Date('2027-01-01T00:00:00Z'),
    ...overrides,
  };
}

function toSchedule(task: Task): TaskSchedule {
  const { id, cronExpression, timezone, revision, scheduledFrom, nextRun } = task;
  return { id, cronExpression, timezone, revision, scheduledFrom, nextRun };
}

/** Everything a SchedulerService test needs, its collaborators faked in memory. */
function createHarness(options: { now: string; tasks?: Task[]; config?: Partial<TestConfig> }) {
  const clock = new FakeClock(options.now);
  const timers = new FakeScheduleTimers(clock);
  const db = new Map<string, Task>((options.tasks ?? []).map((task) => [task.id, { ...task }]));
  /** Copies of the stored tasks among `ids`, in storage order (as an unordered `IN (...)` may). */
  const readTasks = (ids: string[]): Task[] => [...db.values()].filter((task) => ids.includes(task.id)).map((task) => ({ ...task }));

  const tasks = {
    findEnabledSchedules: vi.fn(async (): Promise<TaskSchedule[]> => [...db.values()].filter((t) => t.enabled).map(toSchedule)),
    findEnabledSchedule: vi.fn(async (id: string): Promise<TaskSchedule | null> => {
      const task = db.get(id);
      return task?.enabled ? toSchedule(task) : null;
    }),
    /** Catch-up still reads one task. */
    findById: vi.fn(async (id: string): Promise<Task | null> => {
      const task = db.get(id);
      return task ? { ...task } : null;
    }),
    /** The firing path reads every task due at an instant at once; missing ids are left out. */
    findByIds: vi.fn(async (ids: string[]): Promise<Task[]> => readTasks(ids)),
    findEnabledRevisions: vi.fn(
      async (): Promise<Map<string, number>> =>
        new Map([...db.values()].filter((t) => t.enabled).map((t) => [t.id, t.revision])),
    ),
    recordNextRuns: vi.fn(async (nextRuns: Array<{ id: string; nextRun: Date | null }>): Promise<void> => {
      for (const { id, nextRun } of nextRuns) {
        const task = db.get(id);
        if (task) task.nextRun = nextRun;
      }
    }),
  };
  const executions = { pruneOlderThan: vi.fn(async (_cutoff: Date): Promise<void> => undefined) };
  const schedulerRepository = {
    saveReplica: vi.fn(async (_replica: unknown): Promise<void> => undefined),
    heartbeat: vi.fn(async (_id: string, _at: Date): Promise<void> => undefined),
    markStopped: vi.fn(async (_id: string, _at: Date): Promise<void> => undefined),
    findReplicasSince: vi.fn(async (_since: Date): Promise<unknown[]> => []),
  };
  const runs = {
    /** By default this replica decides (claims) every slot it is handed. */
    runSlot: vi.fn(async (tasks: Task[], _slot: Date, _trigger: Trigger): Promise<Task[]> => tasks),
    maintain: vi.fn(async (): Promise<void> => undefined),
    reapExpired: vi.fn(async (): Promise<number> => 0),
    drain: vi.fn(async (_graceMs: number): Promise<void> => undefined),
  };
  const subject = new Subject<TaskChange>();
  const changes = { changes: subject.asObservable() };
  let onRemoteChange: ((change: TaskChange) => void) | undefined;
  const listener = {
    start: vi.fn(async (callback: (change: TaskChange) => void): Promise<void> => {
      onRemoteChange = callback;
    }),
    stop: vi.fn(async (): Promise<void> => undefined),
  };
  const config: TestConfig = {
    schedulerEnabled: true,
    replicaId: REPLICA,
    catchUpWindowMs: HOUR_MS,
    reconcileIntervalMs: 30_000,
    // Long enough that the real tick timer start() schedules never fires during a test.
    schedulerTickMs: 600_000,
    historyMaxAgeMs: 30 * 86_400_000,
    shutdownGraceMs: 10_000,
    ...options.config,
  };
  const metrics = new MetricsService();

  const service = new SchedulerService(
    tasks as unknown as TasksRepository,
    executions as unknown as ExecutionsRepository,
    schedulerRepository as unknown as SchedulerRepository,
    runs as unknown as RunsService,
    new CronEvaluator(),
    changes as unknown as TaskChanges,
    listener as unknown as TaskChangesListener,
    config as unknown as AppConfigService,
    metrics,
    timers,
    clock,
  );

  return {
    service,
    clock,
    timers,
    db,
    tasks,
    executions,
    schedulerRepository,
    runs,
    config,
    metrics,
    /** A change made through the API on this replica (the local observable). */
    async publishLocal(taskId: string): Promise<void> {
      subject.next({ taskId, replicaId: REPLICA });
      await flushPromises();
    },
    /** A change notification arriving through the PostgreSQL listener. */
    async notifyRemote(taskId: string, replicaId: string): Promise<void> {
      if (!onRemoteChange) throw new Error('the listener was not started');
      onRemoteChange({ taskId, replicaId });
      await flushPromises();
    },
    /** Edits a task in the "database" as the API would: new revision, scheduled from now. */
    edit(id: string, changes: Partial<Task>): void {
      const task = db.get(id);
      if (!task) throw new Error(`no task ${id}`);
      Object.assign(task, { scheduledFrom: clock.now(), ...changes, revision: task.revision + 1 });
    },
    /** runSlot calls flattened, one row per task handed over: [taskId, slot ISO, trigger]. */
    runCalls(): Array<[string, string, Trigger]> {
      return runs.runSlot.mock.calls.flatMap(([batch, slot, trigger]) =>
        batch.map((task): [string, string, Trigger] => [task.id, slot.toISOString(), trigger]),
      );
    },
    /** runSlot calls as they were made: the ids of each batch, its slot and trigger. */
    runBatches(): Array<{ ids: string[]; slot: string; trigger: Trigger }> {
      return runs.runSlot.mock.calls.map(([batch, slot, trigger]) => ({ ids: batch.map((task) => task.id), slot: slot.toISOString(), trigger }));
    },
    /** recordNextRuns calls flattened, one row per task: [taskId, nextRun ISO]. */
    nextRunRecords(): Array<[string, string | null]> {
      return tasks.recordNextRuns.mock.calls.flatMap(([list]) =>
        list.map(({ id, nextRun }): [string, string | null] => [id, nextRun ? nextRun.toISOString() : null]),
      );
    },
    /**
     * Makes the next call of `mock` wait until released (then resolve as `read()` says at that
     * moment); `started` resolves when the call is made.
     */
    holdNext<A extends unknown[], R>(
      mock: Mock<(...args: A) => Promise<R>>,
      read: (...args: A) => R,
    ): { started: Promise<A>; release: () => void } {
      let release: () => void = () => undefined;
      const started = new Promise<A>((resolveStarted) => {
        mock.mockImplementationOnce(async (...args: A) => {
          const released = new Promise<void>((resolve) => (release = resolve));
          resolveStarted(args);
          await released;
          return read(...args);
        });
      });
      return { started, release: () => release() };
    },
    readTasks,
  };
}

type Harness = ReturnType<typeof createHarness>;

const iso = (at: Date | undefined | null): string | undefined | null => (at ? at.toISOString() : at);

describe('SchedulerService', () => {
  let harness: Harness | undefined;
  let loggedErrors: MockInstance;
  /** Set by tests that expect the service to log an error. */
  let errorsExpected = false;

  function setup(options: Parameters<typeof createHarness>[0]): Harness {
    harness = createHarness(options);
    return harness;
  }

  beforeEach(() => {
    errorsExpected = false;
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    loggedErrors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await harness?.service.stop(0);
    harness = undefined;
    const errors = [...loggedErrors.mock.calls];
    vi.restoreAllMocks();
    // fire() and onChange() swallow errors into the log: a silently failing fake must not pass.
    if (!errorsExpected) expect(errors).toEqual([]);
  });

  describe('start', () => {
    it('arms every enabled task at its next slot, and no disabled task', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [
          makeTask('every-5', '*/5 * * * *'),
          makeTask('hourly', '0 * * * *'),
          makeTask('ny-daily', '30 2 * * *', { timezone: NY }),
          makeTask('disabled', '* * * * *', { enabled: false }),
        ],
      });
      await h.service.start();

      expect(iso(h.timers.armedAt('every-5'))).toBe('2027-05-10T10:05:00.000Z');
      expect(iso(h.timers.armedAt('hourly'))).toBe('2027-05-10T11:00:00.000Z');
      // 02:30 EDT (UTC-4) on the next day.
      expect(iso(h.timers.armedAt('ny-daily'))).toBe('2027-05-11T06:30:00.000Z');
      expect(h.timers.armedAt('disabled')).toBeUndefined();
      expect(h.timers.armedAt('absent')).toBeUndefined();
      expect(h.timers.keys()).toEqual(['every-5', 'hourly', 'ny-daily']);
      expect(h.service.armedCount).toBe(3);
      expect(h.runs.runSlot).not.toHaveBeenCalled();
    });

    it('registers the replica, starts the listener and ticks once', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z' });
      await h.service.start();

      expect(h.schedulerRepository.saveReplica).toHaveBeenCalledWith(
        expect.objectContaining({
          id: REPLICA,
          startedAt: new Date('2027-05-10T10:02:30Z'),
          heartbeatAt: new Date('2027-05-10T10:02:30Z'),
          stoppedAt: null,
          pid: process.pid,
        }),
      );
      expect(h.tasks.findEnabledSchedules).toHaveBeenCalledTimes(1);
      expect(h.service.heartbeat).toEqual(new Date('2027-05-10T10:02:30Z'));
      expect(h.service.armedCount).toBe(0);
    });

    it('sets the tasks_scheduled gauge to the number of armed tasks', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('a', '* * * * *'), makeTask('b', '0 0 * * *')] });
      await h.service.start();
      const metric = await h.metrics.scheduledTasks.get();
      expect(metric.values[0]?.value).toBe(2);
    });
  });

  describe('firing', () => {
    it('runs each slot exactly once, re-arming at the following slot and recording it as nextRun', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.runCalls()).toEqual([['t', '2027-05-10T10:05:00.000Z', 'schedule']]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:10:00.000Z');
      expect(iso(h.db.get('t')?.nextRun)).toBe('2027-05-10T10:10:00.000Z');

      await h.timers.advanceTo('2027-05-10T10:10:00Z');
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:15:00.000Z');
      expect(iso(h.db.get('t')?.nextRun)).toBe('2027-05-10T10:15:00.000Z');

      await h.timers.advanceTo('2027-05-10T10:17:00Z');
      expect(h.runCalls()).toEqual([
        ['t', '2027-05-10T10:05:00.000Z', 'schedule'],
        ['t', '2027-05-10T10:10:00.000Z', 'schedule'],
        ['t', '2027-05-10T10:15:00.000Z', 'schedule'],
      ]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:20:00.000Z');
      expect(h.nextRunRecords()).toEqual([
        ['t', '2027-05-10T10:10:00.000Z'],
        ['t', '2027-05-10T10:15:00.000Z'],
        ['t', '2027-05-10T10:20:00.000Z'],
      ]);
      // One record per fired batch.
      expect(h.tasks.recordNextRuns).toHaveBeenCalledTimes(3);
    });

    it('hands runSlot the task as it is in the database', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *', { revision: 7, type: 'backup' })] });
      await h.service.start();
      await h.timers.advanceTo('2027-05-10T10:05:00Z');

      expect(h.runs.runSlot).toHaveBeenCalledTimes(1);
      expect(h.runs.runSlot).toHaveBeenCalledWith(
        [expect.objectContaining({ id: 't', revision: 7, type: 'backup', cronExpression: '*/5 * * * *' })],
        new Date('2027-05-10T10:05:00Z'),
        'schedule',
      );
    });

    it('fires several tasks at the same instant once each', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [makeTask('a', '*/5 * * * *'), makeTask('b', '5 10 * * *'), makeTask('c', '*/15 * * * *')],
      });
      await h.service.start();
      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.runCalls()).toEqual([
        ['a', '2027-05-10T10:05:00.000Z', 'schedule'],
        ['b', '2027-05-10T10:05:00.000Z', 'schedule'],
      ]);
      expect(iso(h.timers.armedAt('b'))).toBe('2027-05-11T10:05:00.000Z');
      expect(iso(h.timers.armedAt('c'))).toBe('2027-05-10T10:15:00.000Z');
    });

    it('arms a slot more than 24.8 days ahead at its exact instant, and fires it there', async () => {
      const h = setup({ now: '2027-03-01T12:00:00Z', tasks: [makeTask('yearly', '0 0 1 1 *')] });
      await h.service.start();

      expect(iso(h.timers.armedAt('yearly'))).toBe('2028-01-01T00:00:00.000Z');
      await h.timers.advanceTo('2027-12-31T23:59:59.999Z');
      expect(h.runs.runSlot).not.toHaveBeenCalled();
      await h.timers.advanceTo('2028-01-01T00:00:00Z');
      expect(h.runCalls()).toEqual([['yearly', '2028-01-01T00:00:00.000Z', 'schedule']]);
      expect(iso(h.timers.armedAt('yearly'))).toBe('2029-01-01T00:00:00.000Z');
    });
  });

  describe('batching of the tasks due at one instant', () => {
    const every5 = (id: string) => makeTask(id, '*/5 * * * *');
    const sorted = (ids: readonly string[]) => [...ids].sort();

    it('decides ten tasks due at the same instant with one findByIds and one runSlot call', async () => {
      const ids = Array.from({ length: 10 }, (_, index) => `t${index}`);
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: ids.slice(0, 9).map(every5) });
      await h.service.start();
      // The tenth is created after start-up: armed later than the others, due at the same instant.
      h.db.set('t9', makeTask('t9', '*/5 * * * *', { scheduledFrom: h.clock.now() }));
      await h.publishLocal('t9');
      expect(h.timers.size).toBe(10);

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.tasks.findByIds).toHaveBeenCalledTimes(1);
      expect(sorted(h.tasks.findByIds.mock.calls[0][0])).toEqual(ids);
      expect(h.runs.runSlot).toHaveBeenCalledTimes(1);
      const [batch] = h.runBatches();
      expect({ ...batch, ids: sorted(batch.ids) }).toEqual({ ids, slot: '2027-05-10T10:05:00.000Z', trigger: 'schedule' });
      // The tasks as read, not the schedules they were armed from.
      for (const task of h.runs.runSlot.mock.calls[0][0]) expect(task).toMatchObject({ type: 'custom', projectId: 'project-1' });
      expect(h.tasks.recordNextRuns).toHaveBeenCalledTimes(1);
      expect(sorted(h.nextRunRecords().map(([id, at]) => `${id} ${at}`))).toEqual(ids.map((id) => `${id} 2027-05-10T10:10:00.000Z`));
      for (const id of ids) expect(iso(h.timers.armedAt(id))).toBe('2027-05-10T10:10:00.000Z');
    });

    it('decides tasks due at different instants in separate batches', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [every5('a'), makeTask('at-7', '7 10 * * *'), every5('b'), makeTask('ny', '5 6 * * *', { timezone: NY })],
      });
      await h.service.start();

      // One advance over three instants: 10:05 (a, b and 06:05 EDT), 10:07, 10:10.
      await h.timers.advanceTo('2027-05-10T10:10:00Z');
      expect(h.tasks.findByIds.mock.calls.map(([ids]) => sorted(ids))).toEqual([['a', 'b', 'ny'], ['at-7'], ['a', 'b']]);
      expect(h.runBatches().map(({ ids, slot, trigger }) => ({ ids: sorted(ids), slot, trigger }))).toEqual([
        { ids: ['a', 'b', 'ny'], slot: '2027-05-10T10:05:00.000Z', trigger: 'schedule' },
        { ids: ['at-7'], slot: '2027-05-10T10:07:00.000Z', trigger: 'schedule' },
        { ids: ['a', 'b'], slot: '2027-05-10T10:10:00.000Z', trigger: 'schedule' },
      ]);
      expect(h.tasks.recordNextRuns.mock.calls.map(([list]) => sorted(list.map(({ id }) => id)))).toEqual([
        ['a', 'b', 'ny'],
        ['at-7'],
        ['a', 'b'],
      ]);
    });

    it('records nextRun only for the tasks runSlot returns (the others lost their slot to another replica)', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [every5('a'), every5('b'), makeTask('c', '5 * * * *')],
      });
      await h.service.start();
      h.runs.runSlot.mockImplementationOnce(async (batch: Task[]) => batch.filter((task) => task.id !== 'b'));

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.runs.runSlot).toHaveBeenCalledTimes(1);
      expect(sorted(h.runBatches()[0].ids)).toEqual(['a', 'b', 'c']);
      expect(h.tasks.recordNextRuns).toHaveBeenCalledTimes(1);
      // Each with the slot after the one fired, by its own expression.
      expect([...h.nextRunRecords()].sort()).toEqual([
        ['a', '2027-05-10T10:10:00.000Z'],
        ['c', '2027-05-10T11:05:00.000Z'],
      ]);
      expect(h.db.get('b')?.nextRun).toBeNull();
      // The loser stays armed: it contends for its next slot like the others.
      expect(iso(h.timers.armedAt('a'))).toBe('2027-05-10T10:10:00.000Z');
      expect(iso(h.timers.armedAt('b'))).toBe('2027-05-10T10:10:00.000Z');
      expect(iso(h.timers.armedAt('c'))).toBe('2027-05-10T11:05:00.000Z');

      // Every slot lost: nothing recorded. Then one won again: recorded.
      h.runs.runSlot.mockImplementationOnce(async () => []);
      await h.timers.advanceTo('2027-05-10T10:10:00Z');
      expect(h.nextRunRecords()).toHaveLength(2);
      expect(iso(h.db.get('a')?.nextRun)).toBe('2027-05-10T10:10:00.000Z');
      await h.timers.advanceTo('2027-05-10T10:15:00Z');
      expect(h.nextRunRecords().slice(2).sort()).toEqual([
        ['a', '2027-05-10T10:20:00.000Z'],
        ['b', '2027-05-10T10:20:00.000Z'],
      ]);
    });

    it('leaves out a task whose revision changed between arming and firing, re-arms it, and runs the others of the batch', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [every5('a'), every5('b'), every5('c')] });
      await h.service.start();
      // Edited on another replica; the notification has not arrived.
      h.edit('b', { cronExpression: '0 * * * *' });
      h.tasks.findEnabledSchedule.mockClear();

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.tasks.findByIds).toHaveBeenCalledTimes(1);
      expect(sorted(h.tasks.findByIds.mock.calls[0][0])).toEqual(['a', 'b', 'c']);
      expect(h.runs.runSlot).toHaveBeenCalledTimes(1);
      expect(sorted(h.runBatches()[0].ids)).toEqual(['a', 'c']);
      expect([...h.nextRunRecords()].sort()).toEqual([
        ['a', '2027-05-10T10:10:00.000Z'],
        ['c', '2027-05-10T10:10:00.000Z'],
      ]);
      // Re-armed from the database, from now: the new expression's next slot.
      expect(h.tasks.findEnabledSchedule.mock.calls).toEqual([['b']]);
      expect(iso(h.timers.armedAt('b'))).toBe('2027-05-10T11:00:00.000Z');
      expect(iso(h.timers.armedAt('a'))).toBe('2027-05-10T10:10:00.000Z');
      expect(iso(h.timers.armedAt('c'))).toBe('2027-05-10T10:10:00.000Z');
      expect(h.service.armedCount).toBe(3);

      await h.timers.advanceTo('2027-05-10T11:00:00Z');
      const last = h.runBatches().at(-1);
      expect(last && { ...last, ids: sorted(last.ids) }).toEqual({ ids: ['a', 'b', 'c'], slot: '2027-05-10T11:00:00.000Z', trigger: 'schedule' });
      expect(h.runCalls().filter(([id]) => id === 'b')).toEqual([['b', '2027-05-10T11:00:00.000Z', 'schedule']]);
    });

    it('leaves out tasks disabled or deleted since they were armed, disarming them, and runs the others', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [every5('a'), every5('off'), every5('gone'), every5('z')] });
      await h.service.start();
      h.edit('off', { enabled: false });
      h.db.delete('gone');

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.runBatches().map(({ ids }) => sorted(ids))).toEqual([['a', 'z']]);
      expect(h.timers.keys()).toEqual(['a', 'z']);
      expect(h.service.armedCount).toBe(2);
      expect([...h.nextRunRecords()].sort()).toEqual([
        ['a', '2027-05-10T10:10:00.000Z'],
        ['z', '2027-05-10T10:10:00.000Z'],
      ]);
    });

    it('leaves out a task whose change was applied while the batch was being read', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [every5('a'), every5('b')] });
      await h.service.start();
      const lookup = h.holdNext(h.tasks.findByIds, h.readTasks);

      const advancing = h.timers.advanceTo('2027-05-10T10:05:00Z');
      await lookup.started;
      h.edit('b', { cronExpression: '0 * * * *' });
      await h.publishLocal('b');
      expect(iso(h.timers.armedAt('b'))).toBe('2027-05-10T11:00:00.000Z');
      h.tasks.findEnabledSchedule.mockClear();
      lookup.release();
      await advancing;
      await flushPromises();

      expect(h.runBatches()).toEqual([{ ids: ['a'], slot: '2027-05-10T10:05:00.000Z', trigger: 'schedule' }]);
      expect(h.nextRunRecords()).toEqual([['a', '2027-05-10T10:10:00.000Z']]);
      // Already re-armed by the notification: not re-read, not moved.
      expect(h.tasks.findEnabledSchedule).not.toHaveBeenCalled();
      expect(iso(h.timers.armedAt('b'))).toBe('2027-05-10T11:00:00.000Z');
      expect(iso(h.timers.armedAt('a'))).toBe('2027-05-10T10:10:00.000Z');
    });

    it('does not read a batch whose every task was re-armed or disarmed before it was decided', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [every5('a')] });
      await h.service.start();
      h.edit('a', { enabled: false });
      // The change arrives in the same turn as the timer, before the batch is decided.
      const fireAndNotify = h.timers.advanceTo('2027-05-10T10:05:00Z');
      await h.publishLocal('a');
      await fireAndNotify;
      expect(h.timers.fired.map(({ key }) => key)).toEqual(['a']);
      expect(h.tasks.findByIds).not.toHaveBeenCalled();
      expect(h.runs.runSlot).not.toHaveBeenCalled();
      expect(h.timers.size).toBe(0);
    });

    it('a failing re-read of one changed task must not cost the rest of its batch their slot or their timer', async () => {
      errorsExpected = true;
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [every5('a'), every5('b'), every5('c')] });
      await h.service.start();
      h.edit('b', { cronExpression: '0 * * * *' });
      h.tasks.findEnabledSchedule.mockRejectedValueOnce(new Error('connection reset'));

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      // One task's failure is that task's: a and c run their slot and stay scheduled.
      expect(h.runCalls()).toEqual([
        ['a', '2027-05-10T10:05:00.000Z', 'schedule'],
        ['c', '2027-05-10T10:05:00.000Z', 'schedule'],
      ]);
      expect(iso(h.timers.armedAt('a'))).toBe('2027-05-10T10:10:00.000Z');
      expect(iso(h.timers.armedAt('c'))).toBe('2027-05-10T10:10:00.000Z');
    });

    it('a batch whose read fails must not leave its tasks unscheduled for good (the reconcile must repair it)', async () => {
      errorsExpected = true;
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [every5('a'), every5('b')] });
      await h.service.start();
      h.tasks.findByIds.mockRejectedValueOnce(new Error('connection reset'));

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(loggedErrors.mock.calls.map(([message]) => String(message))).toEqual([
        expect.stringContaining('Firing 2 task(s) for 2027-05-10T10:05:00.000Z failed: Error: connection reset'),
      ]);
      // Re-armed at once, or at the latest by the periodic reconcile (the safety net).
      await h.service.reconcile();
      await h.timers.advanceTo('2027-05-10T10:10:00Z');
      expect(h.runCalls()).toEqual([
        ['a', '2027-05-10T10:10:00.000Z', 'schedule'],
        ['b', '2027-05-10T10:10:00.000Z', 'schedule'],
      ]);
    });
  });

  describe('errors', () => {
    it('logs and does not arm a stored expression that no longer parses; the others are armed', async () => {
      errorsExpected = true;
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [makeTask('broken', '61 * * * *'), makeTask('ok', '*/5 * * * *')],
      });
      await h.service.start();
      expect(h.timers.keys()).toEqual(['ok']);
      expect(h.service.armedCount).toBe(1);
      // Logged when armed, and again by the first tick's reconcile (which retries what is not armed).
      const messages = loggedErrors.mock.calls.map(([message]) => String(message));
      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) expect(message).toContain('Task broken has an unusable schedule');
    });

    it('keeps the schedule when runSlot fails: the error is logged and the next slot stays armed', async () => {
      errorsExpected = true;
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();
      h.runs.runSlot.mockRejectedValueOnce(new Error('claim failed'));

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(loggedErrors.mock.calls.map(([message]) => String(message))).toEqual([
        expect.stringContaining('Firing 1 task(s) for 2027-05-10T10:05:00.000Z failed: Error: claim failed'),
      ]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:10:00.000Z');
      await h.timers.advanceTo('2027-05-10T10:10:00Z');
      expect(h.runCalls()).toEqual([
        ['t', '2027-05-10T10:05:00.000Z', 'schedule'],
        ['t', '2027-05-10T10:10:00.000Z', 'schedule'],
      ]);
    });
  });

  describe('daylight saving (cron(8) policy)', () => {
    it('30 2 * * * New York: 2027-03-14T07:00Z (the skipped 02:30 runs at 03:00 EDT), then 2027-03-15T06:30Z', async () => {
      const h = setup({ now: '2027-03-13T12:00:00Z', tasks: [makeTask('t', '30 2 * * *', { timezone: NY })] });
      await h.service.start();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-03-14T07:00:00.000Z');

      await h.timers.advanceTo('2027-03-15T12:00:00Z');
      expect(h.runCalls()).toEqual([
        ['t', '2027-03-14T07:00:00.000Z', 'schedule'],
        ['t', '2027-03-15T06:30:00.000Z', 'schedule'],
      ]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-03-16T06:30:00.000Z');
    });

    it('30 1 * * * New York runs once on fall-back day 2027-11-07, at 05:30Z (the first 01:30)', async () => {
      const h = setup({ now: '2027-11-07T00:00:00Z', tasks: [makeTask('t', '30 1 * * *', { timezone: NY })] });
      await h.service.start();
      await h.timers.advanceTo('2027-11-07T23:59:59Z');

      expect(h.runCalls()).toEqual([['t', '2027-11-07T05:30:00.000Z', 'schedule']]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-11-08T06:30:00.000Z');
    });

    it('*/30 1 * * * New York runs four times on 2027-11-07 (05:00, 05:30, 06:00, 06:30Z)', async () => {
      const h = setup({ now: '2027-11-07T00:00:00Z', tasks: [makeTask('t', '*/30 1 * * *', { timezone: NY })] });
      await h.service.start();
      await h.timers.advanceTo('2027-11-07T23:59:59Z');

      expect(h.runCalls()).toEqual([
        ['t', '2027-11-07T05:00:00.000Z', 'schedule'],
        ['t', '2027-11-07T05:30:00.000Z', 'schedule'],
        ['t', '2027-11-07T06:00:00.000Z', 'schedule'],
        ['t', '2027-11-07T06:30:00.000Z', 'schedule'],
      ]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-11-08T06:00:00.000Z');
    });

    it('30 2 * * * Australia/Sydney runs at 2027-10-02T16:00Z (03:00 AEDT)', async () => {
      const h = setup({ now: '2027-10-01T17:00:00Z', tasks: [makeTask('t', '30 2 * * *', { timezone: 'Australia/Sydney' })] });
      await h.service.start();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-10-02T16:00:00.000Z');
      await h.timers.advanceTo('2027-10-03T17:00:00Z');
      expect(h.runCalls()).toEqual([
        ['t', '2027-10-02T16:00:00.000Z', 'schedule'],
        ['t', '2027-10-03T15:30:00.000Z', 'schedule'],
      ]);
    });

    it('15 2 * * * Australia/Lord_Howe runs at 2027-10-02T15:30Z over the 30-minute gap', async () => {
      const h = setup({ now: '2027-10-01T16:00:00Z', tasks: [makeTask('t', '15 2 * * *', { timezone: 'Australia/Lord_Howe' })] });
      await h.service.start();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-10-02T15:30:00.000Z');

      await h.timers.advanceTo('2027-10-03T16:00:00Z');
      expect(h.runCalls()).toEqual([
        ['t', '2027-10-02T15:30:00.000Z', 'schedule'],
        // 02:15 LHDT (UTC+11).
        ['t', '2027-10-03T15:15:00.000Z', 'schedule'],
      ]);
    });
  });

  describe('change notifications', () => {
    it('re-arms an edited task at the new expression’s next slot from now, without backfill', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '0 * * * *')] });
      await h.service.start();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T11:00:00.000Z');

      await h.timers.advanceTo('2027-05-10T10:17:00Z');
      h.edit('t', { cronExpression: '*/5 * * * *' });
      await h.publishLocal('t');

      // Not 10:05, 10:10 or 10:15, which passed before the edit.
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:20:00.000Z');
      expect(h.service.armedCount).toBe(1);
      await h.timers.advanceTo('2027-05-10T10:30:00Z');
      expect(h.runCalls()).toEqual([
        ['t', '2027-05-10T10:20:00.000Z', 'schedule'],
        ['t', '2027-05-10T10:25:00.000Z', 'schedule'],
        ['t', '2027-05-10T10:30:00.000Z', 'schedule'],
      ]);
      for (const [batch] of h.runs.runSlot.mock.calls) for (const task of batch) expect(task.revision).toBe(2);
    });

    it('applies a new time zone from now on', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '0 12 * * *')] });
      await h.service.start();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T12:00:00.000Z');

      h.edit('t', { timezone: NY });
      await h.publishLocal('t');
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T16:00:00.000Z');
    });

    it('arms a task created after start-up', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z' });
      await h.service.start();
      h.db.set('new', makeTask('new', '*/10 * * * *', { scheduledFrom: h.clock.now() }));
      await h.publishLocal('new');

      expect(iso(h.timers.armedAt('new'))).toBe('2027-05-10T10:10:00.000Z');
      expect(h.service.armedCount).toBe(1);
      await h.timers.advanceTo('2027-05-10T10:10:00Z');
      expect(h.runCalls()).toEqual([['new', '2027-05-10T10:10:00.000Z', 'schedule']]);
    });

    it('disarms a disabled task, which then never fires', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *'), makeTask('other', '*/5 * * * *')] });
      await h.service.start();
      h.edit('t', { enabled: false });
      await h.publishLocal('t');

      expect(h.timers.armedAt('t')).toBeUndefined();
      expect(h.service.armedCount).toBe(1);
      await h.timers.advanceTo('2027-05-10T11:00:00Z');
      expect(h.runCalls().filter(([id]) => id === 't')).toEqual([]);
      expect(h.runCalls().filter(([id]) => id === 'other')).toHaveLength(12);
    });

    it('disarms a deleted task, which then never fires', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();
      h.db.delete('t');
      await h.publishLocal('t');

      expect(h.timers.size).toBe(0);
      expect(h.service.armedCount).toBe(0);
      await h.timers.advanceTo('2027-05-10T11:00:00Z');
      expect(h.runs.runSlot).not.toHaveBeenCalled();
    });

    it('re-enabling a task arms it from now: the slots it missed while disabled are not backfilled', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();
      h.edit('t', { enabled: false });
      await h.publishLocal('t');
      await h.timers.advanceTo('2027-05-10T10:31:00Z');
      h.edit('t', { enabled: true });
      await h.publishLocal('t');

      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:35:00.000Z');
      await h.timers.advanceTo('2027-05-10T10:35:00Z');
      expect(h.runCalls()).toEqual([['t', '2027-05-10T10:35:00.000Z', 'schedule']]);
    });

    it('ignores a listener notification from its own replica and applies another replica’s', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '0 * * * *')] });
      await h.service.start();
      h.edit('t', { cronExpression: '*/5 * * * *' });

      h.tasks.findEnabledSchedule.mockClear();
      await h.notifyRemote('t', REPLICA);
      expect(h.tasks.findEnabledSchedule).not.toHaveBeenCalled();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T11:00:00.000Z');

      await h.notifyRemote('t', 'replica-b');
      expect(h.tasks.findEnabledSchedule).toHaveBeenCalledWith('t');
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:05:00.000Z');
    });

    it('applies a deletion notified by another replica', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();
      h.db.delete('t');
      await h.notifyRemote('t', 'replica-b');
      expect(h.timers.size).toBe(0);
      expect(h.service.armedCount).toBe(0);
    });
  });

  describe('a timer armed at an older revision', () => {
    it('does not run the slot when the task was edited since (no notification seen), and re-arms from now', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();
      // Edited on another replica; the notification has not arrived.
      h.edit('t', { cronExpression: '0 * * * *' });

      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.runCalls()).toEqual([]);
      expect(h.nextRunRecords()).toEqual([]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T11:00:00.000Z');

      await h.timers.advanceTo('2027-05-10T11:00:00Z');
      expect(h.runCalls()).toEqual([['t', '2027-05-10T11:00:00.000Z', 'schedule']]);
    });

    it('does not run the slot when the task was disabled since, and disarms it', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();
      h.edit('t', { enabled: false });

      await h.timers.advanceTo('2027-05-10T11:00:00Z');
      expect(h.runCalls()).toEqual([]);
      expect(h.timers.size).toBe(0);
      expect(h.service.armedCount).toBe(0);
    });

    it('does not run the slot when the task was deleted since', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *')] });
      await h.service.start();
      h.db.delete('t');

      await h.timers.advanceTo('2027-05-10T11:00:00Z');
      expect(h.runCalls()).toEqual([]);
      expect(h.service.armedCount).toBe(0);
    });
  });

  describe('reconcile', () => {
    it('arms a task added in the database without a notification', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('a', '*/5 * * * *')] });
      await h.service.start();
      h.db.set('b', makeTask('b', '0 */2 * * *', { scheduledFrom: h.clock.now() }));

      await h.service.reconcile();
      expect(iso(h.timers.armedAt('b'))).toBe('2027-05-10T12:00:00.000Z');
      expect(iso(h.timers.armedAt('a'))).toBe('2027-05-10T10:05:00.000Z');
      expect(h.service.armedCount).toBe(2);
    });

    it('disarms a task removed or disabled in the database', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [makeTask('a', '*/5 * * * *'), makeTask('gone', '*/5 * * * *'), makeTask('off', '*/5 * * * *')],
      });
      await h.service.start();
      h.db.delete('gone');
      h.db.get('off')!.enabled = false;

      await h.service.reconcile();
      expect(h.timers.keys()).toEqual(['a']);
      expect(h.service.armedCount).toBe(1);
      await h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(h.runCalls()).toEqual([['a', '2027-05-10T10:05:00.000Z', 'schedule']]);
    });

    it('re-arms a task whose revision changed, from now', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('a', '*/5 * * * *'), makeTask('b', '0 12 * * *')] });
      await h.service.start();
      await h.timers.advanceTo('2027-05-10T10:07:00Z');
      h.edit('b', { cronExpression: '*/20 * * * *' });
      h.tasks.findEnabledSchedule.mockClear();

      await h.service.reconcile();
      expect(iso(h.timers.armedAt('b'))).toBe('2027-05-10T10:20:00.000Z');
      // The unchanged task is left alone.
      expect(h.tasks.findEnabledSchedule.mock.calls).toEqual([['b']]);
      expect(iso(h.timers.armedAt('a'))).toBe('2027-05-10T10:10:00.000Z');
    });

    it('runs from tick() once every reconcileIntervalMs', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', config: { reconcileIntervalMs: 30_000 } });
      await h.service.start();
      expect(h.tasks.findEnabledRevisions).toHaveBeenCalledTimes(1);

      h.clock.advance(29_999);
      await h.service.tick();
      expect(h.tasks.findEnabledRevisions).toHaveBeenCalledTimes(1);

      h.clock.advance(1);
      await h.service.tick();
      expect(h.tasks.findEnabledRevisions).toHaveBeenCalledTimes(2);
    });
  });

  describe('catch-up at start-up', () => {
    it('runs the latest missed slot within the window once, with trigger catch-up', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [makeTask('t', '*/10 * * * *', { nextRun: new Date('2027-05-10T09:40:00Z') })],
      });
      await h.service.start();

      // 09:40, 09:50 and 10:00 were missed: only 10:00 runs.
      expect(h.runCalls()).toEqual([['t', '2027-05-10T10:00:00.000Z', 'catch-up']]);
      expect(h.runs.runSlot).toHaveBeenCalledWith([expect.objectContaining({ id: 't' })], new Date('2027-05-10T10:00:00Z'), 'catch-up');
      expect(h.tasks.findByIds.mock.calls).toEqual([[['t']]]);
      expect(h.tasks.recordNextRuns.mock.calls).toEqual([[[{ id: 't', nextRun: new Date('2027-05-10T10:10:00Z') }]]]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:10:00.000Z');
      expect(iso(h.db.get('t')?.nextRun)).toBe('2027-05-10T10:10:00.000Z');

      await h.timers.advanceTo('2027-05-10T10:10:00Z');
      expect(h.runCalls()).toEqual([
        ['t', '2027-05-10T10:00:00.000Z', 'catch-up'],
        ['t', '2027-05-10T10:10:00.000Z', 'schedule'],
      ]);
    });

    it('catches up a daily slot missed 50 minutes ago (within the one-hour window)', async () => {
      const h = setup({
        now: '2027-05-10T08:50:00Z',
        tasks: [makeTask('t', '0 8 * * *', { nextRun: new Date('2027-05-10T08:00:00Z') })],
      });
      await h.service.start();
      expect(h.runCalls()).toEqual([['t', '2027-05-10T08:00:00.000Z', 'catch-up']]);
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-11T08:00:00.000Z');
    });

    it('includes a slot exactly at the start of the window', async () => {
      const h = setup({
        now: '2027-05-10T09:00:00Z',
        tasks: [makeTask('t', '0 8 * * *', { nextRun: new Date('2027-05-10T08:00:00Z') })],
      });
      await h.service.start();
      expect(h.runCalls()).toEqual([['t', '2027-05-10T08:00:00.000Z', 'catch-up']]);
    });

    it('does not run a missed slot older than the window, but records the next slot', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [makeTask('t', '0 8 * * *', { nextRun: new Date('2027-05-10T08:00:00Z') })],
      });
      await h.service.start();

      expect(h.runs.runSlot).not.toHaveBeenCalled();
      expect(iso(h.db.get('t')?.nextRun)).toBe('2027-05-11T08:00:00.000Z');
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-11T08:00:00.000Z');
    });

    it('does not run slots before scheduledFrom (created or edited while no replica was up)', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [
          makeTask('t', '*/10 * * * *', {
            scheduledFrom: new Date('2027-05-10T10:01:00Z'),
            nextRun: new Date('2027-05-10T10:10:00Z'),
          }),
          makeTask('u', '*/10 * * * *', {
            // Stored nextRun in the past, but every slot within the window precedes scheduledFrom.
            scheduledFrom: new Date('2027-05-10T10:00:00.001Z'),
            nextRun: new Date('2027-05-10T09:00:00Z'),
          }),
        ],
      });
      await h.service.start();
      expect(h.runs.runSlot).not.toHaveBeenCalled();
      expect(iso(h.timers.armedAt('u'))).toBe('2027-05-10T10:10:00.000Z');
    });

    it('runs only the latest slot after scheduledFrom when scheduledFrom is inside the window', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [
          makeTask('t', '*/10 * * * *', {
            scheduledFrom: new Date('2027-05-10T09:35:00Z'),
            nextRun: new Date('2027-05-10T09:40:00Z'),
          }),
        ],
      });
      await h.service.start();
      expect(h.runCalls()).toEqual([['t', '2027-05-10T10:00:00.000Z', 'catch-up']]);
    });

    it('does nothing when the stored nextRun is in the future', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [makeTask('t', '*/5 * * * *', { nextRun: new Date('2027-05-10T10:05:00Z') })],
      });
      await h.service.start();
      expect(h.runs.runSlot).not.toHaveBeenCalled();
      expect(h.tasks.recordNextRuns).not.toHaveBeenCalled();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:05:00.000Z');
    });

    it('does nothing without a stored nextRun', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *', { nextRun: null })] });
      await h.service.start();
      expect(h.runs.runSlot).not.toHaveBeenCalled();
    });

    it('does nothing with a catch-up window of 0', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        config: { catchUpWindowMs: 0 },
        tasks: [makeTask('t', '*/5 * * * *', { nextRun: new Date('2027-05-10T10:00:00Z') })],
      });
      await h.service.start();
      expect(h.runs.runSlot).not.toHaveBeenCalled();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:05:00.000Z');
    });

    it('catches up tasks that missed the same instant in one batch (after an outage that may be every task)', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: ['a', 'b', 'c'].map((id) => makeTask(id, '*/10 * * * *', { nextRun: new Date('2027-05-10T09:50:00Z') })),
      });
      await h.service.start();
      expect(h.tasks.findByIds).toHaveBeenCalledTimes(1);
      expect(h.runs.runSlot).toHaveBeenCalledTimes(1);
      expect(h.runCalls()).toEqual([
        ['a', '2027-05-10T10:00:00.000Z', 'catch-up'],
        ['b', '2027-05-10T10:00:00.000Z', 'catch-up'],
        ['c', '2027-05-10T10:00:00.000Z', 'catch-up'],
      ]);
      expect(h.tasks.recordNextRuns).toHaveBeenCalledTimes(1);
    });

    it('catches up each task independently', async () => {
      const h = setup({
        now: '2027-05-10T10:02:30Z',
        tasks: [
          makeTask('missed', '*/10 * * * *', { nextRun: new Date('2027-05-10T10:00:00Z') }),
          makeTask('too-old', '0 6 * * *', { nextRun: new Date('2027-05-10T06:00:00Z') }),
          makeTask('on-time', '*/5 * * * *', { nextRun: new Date('2027-05-10T10:05:00Z') }),
        ],
      });
      await h.service.start();
      expect(h.runCalls()).toEqual([['missed', '2027-05-10T10:00:00.000Z', 'catch-up']]);
      expect(h.service.armedCount).toBe(3);
    });
  });

  describe('stop', () => {
    it('disarms everything, drains with the grace period and marks the replica stopped', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('a', '*/5 * * * *'), makeTask('b', '0 * * * *')] });
      await h.service.start();
      expect(h.timers.size).toBe(2);
      h.clock.set('2027-05-10T10:03:00Z');

      await h.service.stop(5_000);
      expect(h.timers.size).toBe(0);
      expect(h.service.armedCount).toBe(0);
      expect(h.runs.drain).toHaveBeenCalledWith(5_000);
      expect(h.schedulerRepository.markStopped).toHaveBeenCalledWith(REPLICA, new Date('2027-05-10T10:03:00Z'));

      await h.timers.advanceTo('2027-05-10T12:00:00Z');
      expect(h.runs.runSlot).not.toHaveBeenCalled();
    });

    it('ignores change notifications afterwards', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('a', '*/5 * * * *')] });
      await h.service.start();
      await h.service.stop(0);
      h.tasks.findEnabledSchedule.mockClear();

      h.edit('a', { cronExpression: '* * * * *' });
      await h.publishLocal('a');
      await h.notifyRemote('a', 'replica-b');
      expect(h.tasks.findEnabledSchedule).not.toHaveBeenCalled();
      expect(h.timers.size).toBe(0);
    });

    it('stops the listener, and does everything once when called twice', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z' });
      await h.service.start();
      await h.service.stop(1);
      await h.service.stop(1);
      expect(h.runs.drain).toHaveBeenCalledTimes(1);
      expect(h.schedulerRepository.markStopped).toHaveBeenCalledTimes(1);
    });

    it('uses the configured grace on application shutdown', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', config: { shutdownGraceMs: 12_345 } });
      await h.service.start();
      await h.service.beforeApplicationShutdown();
      expect(h.runs.drain).toHaveBeenCalledWith(12_345);
    });

    it('a slot whose task lookup (findByIds) is still pending when stop() is called must not re-arm or run', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '*/5 * * * *'), makeTask('u', '*/5 * * * *')] });
      await h.service.start();
      const lookup = h.holdNext(h.tasks.findByIds, h.readTasks);

      const advancing = h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(await lookup.started).toEqual([['t', 'u']]);
      await h.service.stop(0);
      lookup.release();
      await advancing;
      await flushPromises();

      // SIGTERM stops firing: nothing may be armed or started after stop() returned.
      expect(h.service.armedCount).toBe(0);
      expect(h.timers.size).toBe(0);
      expect(h.runs.runSlot).not.toHaveBeenCalled();
      expect(h.tasks.recordNextRuns).not.toHaveBeenCalled();
    });

    it('stop() while a changed task of the batch is being re-read must not hand the rest of the batch to runSlot', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('a', '*/5 * * * *'), makeTask('b', '*/5 * * * *')] });
      await h.service.start();
      h.edit('b', { cronExpression: '0 * * * *' });
      const reread = h.holdNext(h.tasks.findEnabledSchedule, (id: string) => {
        const task = h.db.get(id);
        return task?.enabled ? toSchedule(task) : null;
      });

      let stopped = false;
      const handedAfterStop: string[] = [];
      h.runs.runSlot.mockImplementation(async (batch: Task[]) => {
        if (stopped) handedAfterStop.push(...batch.map((task) => task.id));
        return batch;
      });

      const advancing = h.timers.advanceTo('2027-05-10T10:05:00Z');
      expect(await reread.started).toEqual(['b']);
      await h.service.stop(0);
      stopped = true;
      reread.release();
      await advancing;
      await flushPromises();

      // SIGTERM stops firing: nothing may be armed or started after stop() returned (runs.drain is over).
      expect(h.service.armedCount).toBe(0);
      expect(h.timers.size).toBe(0);
      expect(handedAfterStop).toEqual([]);
    });

  });

  describe('tick', () => {
    it('maintains leases, reaps, prunes history and records the heartbeat at the clock’s now', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', config: { historyMaxAgeMs: 7 * 86_400_000 } });
      expect(h.service.heartbeat).toBeNull();

      await h.service.tick();
      expect(h.runs.maintain).toHaveBeenCalledTimes(1);
      expect(h.runs.reapExpired).toHaveBeenCalledTimes(1);
      expect(h.executions.pruneOlderThan).toHaveBeenCalledWith(new Date('2027-05-03T10:02:30Z'));
      expect(h.schedulerRepository.heartbeat).toHaveBeenCalledWith(REPLICA, new Date('2027-05-10T10:02:30Z'));
      expect(h.service.heartbeat).toEqual(new Date('2027-05-10T10:02:30Z'));

      h.clock.set('2027-05-10T10:03:30Z');
      await h.service.tick();
      expect(h.service.heartbeat).toEqual(new Date('2027-05-10T10:03:30Z'));
      expect(h.schedulerRepository.heartbeat).toHaveBeenLastCalledWith(REPLICA, new Date('2027-05-10T10:03:30Z'));
    });

    it('prunes history at most once an hour', async () => {
      const h = setup({ now: '2027-05-10T10:00:00Z' });
      await h.service.tick();
      h.clock.set('2027-05-10T10:59:59.999Z');
      await h.service.tick();
      expect(h.executions.pruneOlderThan).toHaveBeenCalledTimes(1);
      h.clock.set('2027-05-10T11:00:00Z');
      await h.service.tick();
      expect(h.executions.pruneOlderThan).toHaveBeenCalledTimes(2);
    });

    it('rejects when a dependency fails, leaving the heartbeat where it was', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z' });
      await h.service.tick();
      h.clock.set('2027-05-10T10:03:30Z');
      h.runs.maintain.mockRejectedValueOnce(new Error('database is gone'));

      await expect(h.service.tick()).rejects.toThrow('database is gone');
      expect(h.service.heartbeat).toEqual(new Date('2027-05-10T10:02:30Z'));
      expect(h.schedulerRepository.heartbeat).toHaveBeenCalledTimes(1);
    });

    it('does not advance the heartbeat when writing it fails', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z' });
      h.schedulerRepository.heartbeat.mockRejectedValueOnce(new Error('write failed'));
      await expect(h.service.tick()).rejects.toThrow('write failed');
      expect(h.service.heartbeat).toBeNull();
    });

    it('publishes the last tick of every replica seen in the last day on scrape', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z' });
      h.schedulerRepository.findReplicasSince.mockResolvedValueOnce([
        { id: 'replica-b', heartbeatAt: new Date('2027-05-10T10:00:00Z') },
      ]);
      const text = await h.metrics.render();
      expect(h.schedulerRepository.findReplicasSince).toHaveBeenCalledWith(new Date('2027-05-09T10:02:30Z'));
      expect(text).toContain(`scheduler_last_tick_timestamp_seconds{replica="replica-b"} ${Date.parse('2027-05-10T10:00:00Z') / 1000}`);
    });
  });

  describe('onApplicationBootstrap', () => {
    it('does not start when the scheduler is disabled', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', config: { schedulerEnabled: false }, tasks: [makeTask('t', '* * * * *')] });
      await h.service.onApplicationBootstrap();
      expect(h.schedulerRepository.saveReplica).not.toHaveBeenCalled();
      expect(h.timers.size).toBe(0);
    });

    it('starts when enabled', async () => {
      const h = setup({ now: '2027-05-10T10:02:30Z', tasks: [makeTask('t', '* * * * *')] });
      await h.service.onApplicationBootstrap();
      expect(iso(h.timers.armedAt('t'))).toBe('2027-05-10T10:03:00.000Z');
    });
  });
});
