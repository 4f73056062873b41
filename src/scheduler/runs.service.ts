import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { ConflictError, DomainError } from '../common/errors/domain-errors';
import { newId } from '../common/ids';
import { TASK_EXECUTORS } from '../executors/executors.module';
import type { AbortReason, ExecutionOutcome, ExecutionRequest, TaskExecutor, TaskExecutors } from '../executors/task-executor';
import { AlertsService } from '../alerts/alerts.service';
import { alertForRun } from '../alerts/run-alerts';
import { MetricsService } from '../metrics/metrics.service';
import type { Execution } from '../tasks/entities/execution.entity';
import type { Task } from '../tasks/entities/task.entity';
import type { ExecutionStatus, ExecutionTrigger } from '../tasks/execution-status';
import { ExecutionsRepository, type FinishedExecution } from '../tasks/executions.repository';
import { TasksRepository } from '../tasks/tasks.repository';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { CLOCK, type Clock } from './schedule-timers';
import { ProjectLocksRepository } from './project-locks.repository';
import { SecretMasker } from './secret-masker';

const INTERRUPTED = 'interrupted';
const LOCK_POLL_MS = 1000;

interface ActiveRun {
  execution: Execution;
  controller: AbortController;
  done: Promise<void>;
  lockedProject: string | null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** One line for the execution's `error`: a domain error's reason too (which engine, say). */
function describeRunError(error: unknown): string {
  if (error instanceof DomainError && typeof error.details === 'string') return `${error.message}: ${error.details}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Claims runs in the database, executes them on this replica under MAX_CONCURRENT_RUNS with a
 * timeout, records the outcome, and closes runs whose replica died.
 */
@Injectable()
export class RunsService {
  private readonly logger = new Logger(RunsService.name);
  private readonly active = new Map<string, ActiveRun>();
  private readonly runsSincePrune = new Map<string, number>();
  private readonly limiter: ConcurrencyLimiter;
  private readonly masker: SecretMasker;

  constructor(
    private readonly executions: ExecutionsRepository,
    private readonly tasks: TasksRepository,
    private readonly locks: ProjectLocksRepository,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
    private readonly alerts: AlertsService,
    @Inject(TASK_EXECUTORS) private readonly executors: TaskExecutors,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.limiter = new ConcurrencyLimiter(config.maxConcurrentRuns);
    this.masker = new SecretMasker(config.secretValues);
  }

  /**
   * One slot of many tasks (all those due at that instant), on whichever replica wins each: the
   * claims are inserted together. A slot that comes while the task is still running is recorded
   * as skipped, once. Returns the tasks whose slot this replica decided (ran or skipped).
   */
  async runSlot(tasks: Task[], slot: Date, trigger: Extract<ExecutionTrigger, 'schedule' | 'catch-up'>): Promise<Task[]> {
    if (tasks.length === 0) return [];
    const now = this.clock.now();
    const claims = tasks.map((task) => this.newExecution(task.id, trigger, null, slot, now));
    const claimed = await this.executions.insertIfFree(claims);
    const decided: Task[] = [];
    const lost: Task[] = [];
    for (const [index, task] of tasks.entries()) {
      if (!claimed.has(claims[index].id)) {
        lost.push(task);
        continue;
      }
      decided.push(task);
      void this.start(claims[index], task);
    }
    if (lost.length === 0) return decided;

    const taken = await this.executions.findTasksWithSlot(
      lost.map((task) => task.id),
      slot,
    );
    const overlapping = lost.filter((task) => !taken.has(task.id));
    const skips = overlapping.map((task) => ({
      ...this.newExecution(task.id, trigger, null, slot, now),
      status: 'skipped' as const,
      replicaId: null,
      leaseExpiresAt: null,
      finishedAt: now,
      duration: 0,
      error: 'The previous run was still running',
    }));
    const skipped = await this.executions.insertIfFree(skips);
    for (const [index, task] of overlapping.entries()) {
      if (!skipped.has(skips[index].id)) continue;
      decided.push(task);
      this.metrics.runs.inc({ type: task.type, status: 'skipped' });
      this.alertMissedSlot(task, slot, 'the previous run was still running');
    }
    return decided;
  }

  /** Runs now, whatever the schedule; 409 while the task is running anywhere. */
  async runNow(task: Task, triggeredBy: string): Promise<{ execution: Execution; done: Promise<void> }> {
    const execution = this.newExecution(task.id, 'manual', triggeredBy, null, this.clock.now());
    if ((await this.executions.insertIfFree([execution])).size === 0) throw new ConflictError('Task is already running');
    return { execution, done: this.start(execution, task) };
  }

  /** Cancels a run of this replica at once; one of another replica when that replica next ticks. */
  async cancel(execution: Execution): Promise<void> {
    const local = this.active.get(execution.id);
    if (local) {
      local.controller.abort('cancelled' satisfies AbortReason);
      await local.done;
      return;
    }
    if (!(await this.executions.requestCancel(execution.id))) throw new ConflictError('Execution is not running');
  }

  /** Called on every tick: keeps this replica's leases (and project locks) alive, applies remote cancels. */
  async maintain(): Promise<void> {
    const ids = [...this.active.keys()];
    const expiresAt = new Date(this.clock.now().getTime() + this.config.runLeaseMs);
    await this.executions.renewLeases(ids, expiresAt);
    await this.locks.renewLocks(ids, expiresAt);
    for (const id of await this.executions.findCancelRequested(ids)) {
      this.active.get(id)?.controller.abort('cancelled' satisfies AbortReason);
    }
  }

  /** Closes runs left `running` by a replica whose lease ran out, and repairs what they touched. */
  async reapExpired(): Promise<number> {
    const now = this.clock.now();
    let closed = 0;
    for (const execution of await this.executions.findExpiredLeases(now)) {
      if (this.active.has(execution.id)) continue;
      const closing: FinishedExecution = {
        status: 'failed',
        executedAt: execution.executedAt,
        finishedAt: now,
        duration: now.getTime() - execution.executedAt.getTime(),
        result: null,
        error: `${INTERRUPTED}: replica ${execution.replicaId ?? 'unknown'} stopped renewing its lease`,
        output: null,
      };
      if (!(await this.executions.finish(execution.id, closing))) continue;
      closed += 1;
      const task = await this.tasks.findById(execution.taskId);
      if (!task) continue;
      await this.tasks.recordLastRun(task.id, execution.executedAt, 'failed');
      this.metrics.runs.inc({ type: task.type, status: 'failed' });
      this.alertAfterRun(task, { ...closing, id: execution.id, scheduledFor: execution.scheduledFor });
      await this.repair(task, execution);
    }
    return closed;
  }

  /** Waits up to `graceMs` for running work, then interrupts what is left and closes it as failed. */
  async drain(graceMs: number): Promise<void> {
    const pending = () => [...this.active.values()].map((run) => run.done);
    await Promise.race([Promise.all(pending()), new Promise((resolve) => setTimeout(resolve, graceMs))]);
    for (const run of this.active.values()) run.controller.abort('interrupted' satisfies AbortReason);
    await Promise.race([Promise.all(pending()), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }

  private newExecution(
    taskId: string,
    trigger: ExecutionTrigger,
    triggeredBy: string | null,
    scheduledFor: Date | null,
    now: Date,
  ): Execution {
    return Object.assign({} as Execution, {
      id: newId('exec'),
      taskId,
      trigger,
      triggeredBy,
      scheduledFor,
      executedAt: now,
      finishedAt: null,
      status: 'running' as ExecutionStatus,
      duration: null,
      result: null,
      error: null,
      output: null,
      replicaId: this.config.replicaId,
      leaseExpiresAt: new Date(now.getTime() + this.config.runLeaseMs),
      cancelRequested: false,
      touchedContainers: null,
    });
  }

  private start(execution: Execution, task: Task): Promise<void> {
    const controller = new AbortController();
    const run: ActiveRun = { execution, controller, done: Promise.resolve(), lockedProject: null };
    this.active.set(execution.id, run);
    this.metrics.runsInProgress.set(this.active.size);
    run.done = this.execute(run, task)
      .catch((error: unknown) => this.logger.error(`Run ${execution.id} of ${task.id} could not be recorded: ${String(error)}`))
      .finally(() => {
        this.active.delete(execution.id);
        this.metrics.runsInProgress.set(this.active.size);
      });
    return run.done;
  }

  private async execute(run: ActiveRun, task: Task): Promise<void> {
    const { execution, controller } = run;
    const timeoutSeconds = task.timeoutSeconds ?? this.config.defaultTimeoutSeconds(task.type);
    let outcome: ExecutionOutcome;
    let startedAt = this.clock.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.limiter.acquire(controller.signal);
      try {
        // Starting costs no database write: the real start is recorded with the outcome.
        startedAt = this.clock.now();
        execution.executedAt = startedAt;
        if (execution.scheduledFor) {
          this.metrics.lateness.observe((startedAt.getTime() - execution.scheduledFor.getTime()) / 1000);
        }
        timer = setTimeout(() => controller.abort('timeout' satisfies AbortReason), timeoutSeconds * 1000);
        outcome = await this.executorFor(task).execute(this.request(run, task, timeoutSeconds));
      } finally {
        clearTimeout(timer);
        this.limiter.release();
      }
    } catch (error) {
      outcome = { status: 'failed', result: null, error: describeRunError(error) };
    } finally {
      if (run.lockedProject) await this.locks.unlock(run.lockedProject, execution.id).catch(() => undefined);
    }
    await this.record(execution, task, startedAt, outcome, controller.signal, timeoutSeconds);
  }

  private async record(
    execution: Execution,
    task: Task,
    startedAt: Date,
    outcome: ExecutionOutcome,
    signal: AbortSignal,
    timeoutSeconds: number,
  ): Promise<void> {
    const finishedAt = this.clock.now();
    const finished: FinishedExecution = {
      status: outcome.status,
      executedAt: startedAt,
      finishedAt,
      duration: finishedAt.getTime() - startedAt.getTime(),
      result: this.masker.maskDeep(outcome.result),
      error: outcome.status === 'success' ? null : this.masker.mask(outcome.error ?? 'Failed'),
      output: this.masker.maskDeep(outcome.output ?? null),
    };
    if (signal.aborted) {
      const reason = signal.reason as AbortReason;
      const byReason: Record<AbortReason, Pick<FinishedExecution, 'status' | 'error'>> = {
        timeout: { status: 'timeout', error: `Timed out after ${timeoutSeconds} s` },
        cancelled: { status: 'cancelled', error: 'Cancelled' },
        interrupted: { status: 'failed', error: `${INTERRUPTED}: the service was shutting down` },
      };
      Object.assign(finished, byReason[reason]);
    }
    execution.status = finished.status;
    if (!(await this.executions.finish(execution.id, finished))) return;
    await this.tasks.recordLastRun(task.id, startedAt, finished.status);
    this.metrics.runs.inc({ type: task.type, status: finished.status });
    this.metrics.runDuration.observe({ type: task.type }, finished.duration / 1000);
    this.alertAfterRun(task, { ...finished, id: execution.id, scheduledFor: execution.scheduledFor });
    if (finished.status !== 'success' && execution.touchedContainers?.length) await this.repair(task, execution);
    await this.pruneHistory(task.id);
  }

  /**
   * Keeps the task's history within HISTORY_MAX_PER_TASK, pruning every tenth of that many runs
   * (every run for small limits) rather than after each one: 10,000 runs in a minute must not
   * mean 10,000 extra deletes.
   */
  private async pruneHistory(taskId: string): Promise<void> {
    const keep = this.config.historyMaxPerTask;
    const runs = (this.runsSincePrune.get(taskId) ?? 0) + 1;
    if (runs < Math.max(1, Math.floor(keep / 10))) {
      this.runsSincePrune.set(taskId, runs);
      return;
    }
    this.runsSincePrune.delete(taskId);
    await this.executions.pruneTask(taskId, keep);
  }

  private request(run: ActiveRun, task: Task, timeoutSeconds: number): ExecutionRequest {
    const { execution, controller } = run;
    return {
      executionId: execution.id,
      task: {
        id: task.id,
        name: task.name,
        type: task.type,
        projectId: task.projectId,
        config: task.config,
        timeoutSeconds,
      },
      signal: controller.signal,
      lockProject: async () => {
        const lock = {
          projectId: task.projectId,
          executionId: execution.id,
          replicaId: this.config.replicaId,
          expiresAt: new Date(this.clock.now().getTime() + this.config.runLeaseMs),
        };
        while (!(await this.locks.tryLock(lock, this.clock.now()))) {
          await sleep(LOCK_POLL_MS, controller.signal);
          lock.expiresAt = new Date(this.clock.now().getTime() + this.config.runLeaseMs);
        }
        run.lockedProject = task.projectId;
      },
      recordTouchedContainers: async (containers) => {
        execution.touchedContainers = containers;
        await this.executions.recordTouchedContainers(execution.id, containers);
      },
    };
  }

  /**
   * After the outcome is stored, and without waiting for it: a webhook that is down or slow must
   * change neither the record nor the run's duration. `task.lastStatus` is still the previous run's.
   */
  private alertAfterRun(task: Task, finished: FinishedExecution & { id: string; scheduledFor: Date | null }): void {
    if (!this.alerts.enabled) return;
    const alert = alertForRun(task, finished, task.lastStatus, this.alerts.runFailuresEnabled);
    if (alert) void this.alerts.send(alert);
  }

  get missedSlotAlertsEnabled(): boolean {
    return this.alerts.runFailuresEnabled;
  }

  /** With ALERT_ON_RUN_FAILURE, a slot that did not run (overlap here; outages at catch-up). */
  alertMissedSlot(task: Task, slot: Date, reason: string, details?: Record<string, unknown>): void {
    if (!this.alerts.runFailuresEnabled) return;
    void this.alerts.send({
      event: 'slot.missed',
      task: { id: task.id, name: task.name, type: task.type, projectId: task.projectId },
      message: `Slot ${slot.toISOString()} of ${task.type} task "${task.name}" did not run: ${reason}`,
      details: { slot: slot.toISOString(), reason, ...details },
    });
  }

  private executorFor(task: Task): TaskExecutor {
    return this.executors[task.type] as TaskExecutor;
  }

  private async repair(task: Task, execution: Execution): Promise<void> {
    const executor = this.executorFor(task);
    if (!execution.touchedContainers?.length || !executor.repair) return;
    try {
      await executor.repair(task.projectId, execution.touchedContainers);
    } catch (error) {
      this.logger.error(`Repair after ${execution.id} of ${task.id} failed: ${String(error)}`);
    }
  }
}
