import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { hostname } from 'node:os';
import type { Subscription } from 'rxjs';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { CronEvaluator } from '../tasks/cron-evaluator';
import type { Task } from '../tasks/entities/task.entity';
import { ExecutionsRepository } from '../tasks/executions.repository';
import { TaskChanges, type TaskChange } from '../tasks/task-changes';
import { TasksRepository, type TaskSchedule } from '../tasks/tasks.repository';
import { SchedulerReplica } from './entities/scheduler-replica.entity';
import { RunsService } from './runs.service';
import { CLOCK, SCHEDULE_TIMERS, type Clock, type ScheduleTimers } from './schedule-timers';
import { SchedulerRepository } from './scheduler.repository';
import { TaskChangesListener } from './task-changes.listener';

const HOUR_MS = 3_600_000;

interface DueTask {
  taskId: string;
  revision: number;
}

/**
 * Keeps one timer per enabled task, armed at the instant the cron evaluator computes, and hands
 * each slot to the runs service, which lets the database decide which replica runs it.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SchedulerService.name);
  /** Tasks whose timers fired for the same instant, collected until they are decided together. */
  private readonly due = new Map<number, DueTask[]>();
  /** Armed tasks and the revision they were armed at. */
  private readonly armed = new Map<string, number>();
  /** Enabled tasks whose stored schedule has no next slot (or no longer parses), by revision. */
  private readonly unschedulable = new Map<string, number>();
  private subscription: Subscription | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private running = false;
  private lastTickAt: Date | null = null;
  private lastReconcileAt = 0;
  private lastPruneAt = 0;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly executions: ExecutionsRepository,
    private readonly schedulerRepository: SchedulerRepository,
    private readonly runs: RunsService,
    private readonly cron: CronEvaluator,
    private readonly changes: TaskChanges,
    private readonly listener: TaskChangesListener,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
    @Inject(SCHEDULE_TIMERS) private readonly timers: ScheduleTimers,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.metrics.addCollector(() => this.collectReplicaTicks());
  }

  get enabled(): boolean {
    return this.config.schedulerEnabled;
  }

  get armedCount(): number {
    return this.armed.size;
  }

  /** When the scheduler last completed its periodic work; null before the first tick. */
  get heartbeat(): Date | null {
    return this.lastTickAt;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop(this.config.shutdownGraceMs);
  }

  async start(): Promise<void> {
    const now = this.clock.now();
    const replica = Object.assign(new SchedulerReplica(), {
      id: this.config.replicaId,
      hostname: hostname().slice(0, 255),
      pid: process.pid,
      startedAt: now,
      heartbeatAt: now,
      stoppedAt: null,
    });
    await this.schedulerRepository.saveReplica(replica);
    this.running = true;
    this.subscription = this.changes.changes.subscribe((change) => this.onChange(change));
    await this.listener.start((change) => {
      if (change.replicaId !== this.config.replicaId) this.onChange(change);
    });

    const schedules = await this.tasks.findEnabledSchedules();
    for (const schedule of schedules) this.arm(schedule, now);
    await this.catchUp(schedules, now);
    this.metrics.scheduledTasks.set(this.armed.size);
    this.logger.log(`Scheduler started on replica ${this.config.replicaId}: ${this.armed.size} task(s) armed`);
    await this.tick();
    this.scheduleTick();
  }

  /** Stops firing, lets running work finish for up to `graceMs`, then interrupts the rest. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.tickTimer);
    this.subscription?.unsubscribe();
    await this.listener.stop();
    this.timers.disarmAll();
    this.armed.clear();
    this.unschedulable.clear();
    await this.runs.drain(graceMs);
    await this.schedulerRepository.markStopped(this.config.replicaId, this.clock.now()).catch(() => undefined);
  }

  /** One round of the scheduler's own upkeep; a failed round leaves the heartbeat stale. */
  async tick(): Promise<void> {
    const now = this.clock.now();
    await this.runs.maintain();
    await this.runs.reapExpired();
    if (now.getTime() - this.lastReconcileAt >= this.config.reconcileIntervalMs) {
      await this.reconcile();
      this.lastReconcileAt = now.getTime();
    }
    if (now.getTime() - this.lastPruneAt >= HOUR_MS) {
      await this.executions.pruneOlderThan(new Date(now.getTime() - this.config.historyMaxAgeMs));
      this.lastPruneAt = now.getTime();
    }
    await this.schedulerRepository.heartbeat(this.config.replicaId, now);
    this.lastTickAt = now;
    this.metrics.lastTick.set({ replica: this.config.replicaId }, now.getTime() / 1000);
  }

  /** Brings the armed set in line with the database: the safety net under change notifications. */
  async reconcile(): Promise<void> {
    const revisions = await this.tasks.findEnabledRevisions();
    for (const taskId of [...this.armed.keys()]) {
      if (!revisions.has(taskId)) this.disarm(taskId);
    }
    for (const [taskId, revision] of revisions) {
      if (this.armed.get(taskId) !== revision && this.unschedulable.get(taskId) !== revision) await this.rearm(taskId);
    }
  }

  private scheduleTick(): void {
    if (!this.running) return;
    this.tickTimer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.logger.error(`Scheduler tick failed: ${String(error)}`))
        .finally(() => this.scheduleTick());
    }, this.config.schedulerTickMs);
    this.tickTimer.unref();
  }

  private onChange(change: TaskChange): void {
    if (!this.running) return;
    this.rearm(change.taskId).catch((error: unknown) =>
      this.logger.error(`Re-arming task ${change.taskId} failed: ${String(error)}`),
    );
  }

  /** A created, edited, enabled, disabled or deleted task: armed from now on, never backfilled. */
  private async rearm(taskId: string): Promise<void> {
    const schedule = await this.tasks.findEnabledSchedule(taskId);
    if (!this.running) return;
    if (!schedule) this.disarm(taskId);
    else this.arm(schedule, this.clock.now());
    this.metrics.scheduledTasks.set(this.armed.size);
  }

  private arm(schedule: TaskSchedule, after: Date): void {
    const slot = this.nextSlot(schedule, after);
    if (!slot) {
      this.disarm(schedule.id);
      // Remembered so the reconcile does not retry (and re-log) it until the task changes.
      this.unschedulable.set(schedule.id, schedule.revision);
      return;
    }
    this.unschedulable.delete(schedule.id);
    this.armed.set(schedule.id, schedule.revision);
    this.timers.arm(schedule.id, slot, () => this.fire(schedule.id, schedule.revision, slot));
  }

  private disarm(taskId: string): void {
    this.timers.disarm(taskId);
    this.armed.delete(taskId);
    this.unschedulable.delete(taskId);
  }

  private nextSlot(schedule: TaskSchedule, after: Date): Date | null {
    try {
      return this.cron.nextRun(schedule.cronExpression, schedule.timezone, after);
    } catch (error) {
      // Stored expressions were valid when saved; one that no longer parses is logged, not fired.
      this.logger.error(`Task ${schedule.id} has an unusable schedule: ${String(error)}`);
      return null;
    }
  }

  /**
   * Timers due at the same instant fire in the same turn of the event loop: they are collected
   * and decided together (one read, one batch of claims), so 10,000 tasks sharing a minute cost
   * a few statements rather than tens of thousands.
   */
  private fire(taskId: string, revision: number, slot: Date): void {
    const key = slot.getTime();
    let batch = this.due.get(key);
    if (!batch) {
      const collected: DueTask[] = [];
      batch = collected;
      this.due.set(key, collected);
      setImmediate(() => {
        this.due.delete(key);
        this.fireSlot(slot, collected).catch((error: unknown) =>
          this.logger.error(`Firing ${collected.length} task(s) for ${slot.toISOString()} failed: ${String(error)}`),
        );
      });
    }
    batch.push({ taskId, revision });
  }

  private async fireSlot(slot: Date, due: DueTask[]): Promise<void> {
    const armedAtFire = due.filter(({ taskId, revision }) => this.armed.get(taskId) === revision);
    if (!this.running || armedAtFire.length === 0) return;
    let tasks: Map<string, Task>;
    try {
      tasks = new Map((await this.tasks.findByIds(armedAtFire.map(({ taskId }) => taskId))).map((task) => [task.id, task]));
    } catch (error) {
      // Their timers have fired: forgotten, they are re-armed from now by the next reconcile.
      for (const { taskId, revision } of armedAtFire) {
        if (this.armed.get(taskId) === revision) this.armed.delete(taskId);
      }
      throw error;
    }
    const firing: Task[] = [];
    const changed: string[] = [];
    for (const { taskId, revision } of armedAtFire) {
      if (this.armed.get(taskId) !== revision) continue;
      const task = tasks.get(taskId);
      if (task && task.enabled && task.revision === revision) {
        this.arm(task, slot);
        firing.push(task);
      } else {
        changed.push(taskId);
      }
    }
    // stop() or a change may have come while the tasks were being read.
    if (!this.running) return;
    if (firing.length > 0) {
      const decided = await this.runs.runSlot(firing, slot, 'schedule');
      // The replica that decided a slot (ran or skipped it) moves the stored nextRun on.
      await this.tasks.recordNextRuns(decided.map((task) => ({ id: task.id, nextRun: this.nextSlot(task, slot) })));
    }
    // Changed since they were armed: re-armed from the database, this slot not run.
    for (const taskId of changed) this.onChange({ taskId, replicaId: this.config.replicaId });
  }

  /**
   * With no replica up at a slot, the latest missed slot within the catch-up window runs once at
   * start-up. The stored nextRun tells cheaply whether anything was missed at all; after an
   * outage that may be every task, so the missed slots are claimed in batches, one per instant.
   */
  private async catchUp(schedules: TaskSchedule[], now: Date): Promise<void> {
    if (this.config.catchUpWindowMs === 0) return;
    const nextRuns: Array<{ id: string; nextRun: Date | null }> = [];
    const missed = new Map<number, string[]>();
    const firstMissed = new Map<string, { first: Date; caughtUp: Date | null }>();
    for (const schedule of schedules) {
      if (!schedule.nextRun || schedule.nextRun > now) continue;
      // Slots from the first one missed (and the window's start) on, strictly after the schedule took effect.
      const after = Math.max(
        now.getTime() - this.config.catchUpWindowMs - 1,
        schedule.scheduledFrom.getTime(),
        schedule.nextRun.getTime() - 1,
      );
      let latest: Date | null = null;
      for (let slot = this.nextSlot(schedule, new Date(after)); slot && slot <= now; slot = this.nextSlot(schedule, slot)) {
        latest = slot;
      }
      nextRuns.push({ id: schedule.id, nextRun: this.nextSlot(schedule, now) });
      if (latest) missed.set(latest.getTime(), [...(missed.get(latest.getTime()) ?? []), schedule.id]);
      firstMissed.set(schedule.id, { first: schedule.nextRun, caughtUp: latest });
    }
    if (nextRuns.length > 0) await this.tasks.recordNextRuns(nextRuns);
    await this.alertMissedSlots(firstMissed);
    for (const [slot, taskIds] of missed) {
      const tasks = (await this.tasks.findByIds(taskIds)).filter((task) => task.enabled);
      await this.runs.runSlot(tasks, new Date(slot), 'catch-up');
    }
  }

  /** One alert per task that missed slots while no replica was up (ALERT_ON_RUN_FAILURE). */
  private async alertMissedSlots(missed: Map<string, { first: Date; caughtUp: Date | null }>): Promise<void> {
    if (missed.size === 0 || !this.runs.missedSlotAlertsEnabled) return;
    for (const task of await this.tasks.findByIds([...missed.keys()])) {
      const { first, caughtUp } = missed.get(task.id)!;
      if (!task.enabled) continue;
      const reason = caughtUp
        ? `no replica was up; the latest missed slot (${caughtUp.toISOString()}) runs now as catch-up`
        : 'no replica was up, and the missed slots are older than the catch-up window';
      this.runs.alertMissedSlot(task, first, reason, { firstMissedSlot: first.toISOString(), caughtUpSlot: caughtUp?.toISOString() ?? null });
    }
  }

  private async collectReplicaTicks(): Promise<void> {
    const since = new Date(this.clock.now().getTime() - 24 * HOUR_MS);
    for (const replica of await this.schedulerRepository.findReplicasSince(since)) {
      this.metrics.lastTick.set({ replica: replica.id }, replica.heartbeatAt.getTime() / 1000);
    }
  }
}
