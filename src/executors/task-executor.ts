import type { TaskConfigByType } from '../tasks/task-config';
import type { TaskType } from '../tasks/task-type';

/** Why a run's signal was aborted: decides the execution's final status. */
export type AbortReason = 'timeout' | 'cancelled' | 'interrupted';

/** What an executor gets: the task as it was when the run started, and the run's controls. */
export interface ExecutionRequest<T extends TaskType = TaskType> {
  executionId: string;
  task: {
    id: string;
    name: string;
    type: T;
    projectId: string;
    config: TaskConfigByType[T];
    timeoutSeconds: number;
  };
  /** Aborted on timeout, cancel or shutdown; `signal.reason` is an `AbortReason`. Executors must stop promptly. */
  signal: AbortSignal;
  /**
   * Waits for the project's lock (one container-changing run per project, across replicas); it is
   * held until the run ends. Rejects if the run is aborted while waiting.
   */
  lockProject(): Promise<void>;
  /** Records containers the run stopped or replaced, before touching them, for `repair`. */
  recordTouchedContainers(containers: string[]): Promise<void>;
}

/** Captured output of commands, already bounded by the executor. */
export interface ExecutionOutput {
  stdout: string;
  stderr: string;
}

export interface ExecutionOutcome {
  /** A run whose signal was aborted is recorded as timeout/cancelled/failed whatever this says. */
  status: 'success' | 'failed';
  result: Record<string, unknown> | null;
  /** Why it failed, for people: one line. */
  error?: string;
  output?: ExecutionOutput;
}

/** One provider per task type. Throwing is allowed: the runner records the error as a failed run. */
export interface TaskExecutor<T extends TaskType = TaskType> {
  execute(request: ExecutionRequest<T>): Promise<ExecutionOutcome>;
  /** Puts back what an interrupted run left changed (e.g. starts the containers it stopped). */
  repair?(projectId: string, touchedContainers: string[]): Promise<void>;
}

/** The lookup the scheduler uses: a task type without an executor does not compile. */
export type TaskExecutors = { [K in TaskType]: TaskExecutor<K> };
