import type { TaskType } from '../tasks/task-type';
import type { ExecutionOutcome, TaskExecutor } from './task-executor';

/** For task types whose executor has not been built yet: every run fails, saying so. */
export class UnavailableExecutor<T extends TaskType> implements TaskExecutor<T> {
  constructor(private readonly type: T) {}

  execute(): Promise<ExecutionOutcome> {
    return Promise.resolve({
      status: 'failed',
      result: null,
      error: `Running ${this.type} tasks is not available in this version yet`,
    });
  }
}
