import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors/domain-errors';
import type { Principal } from '../permissions/principal';
import type { Execution } from '../tasks/entities/execution.entity';
import { ExecutionsRepository } from '../tasks/executions.repository';
import { TasksService } from '../tasks/tasks.service';
import type { ListExecutionsQueryDto } from './dto/executions.dto';
import { RunsService } from './runs.service';

const DEFAULT_PAGE = 50;

/** The run history and manual runs, as the API offers them (scoping and permissions included). */
@Injectable()
export class ExecutionsService {
  constructor(
    private readonly tasks: TasksService,
    private readonly executions: ExecutionsRepository,
    private readonly runs: RunsService,
  ) {}

  /** Runs the task now; `wait` answers with the finished execution, else with the running one. */
  async run(principal: Principal, taskId: string, wait: boolean): Promise<Execution> {
    const task = await this.tasks.findVisible(principal, taskId);
    this.tasks.assertHostCommandPermission(principal, task.type, task.config);
    const { execution, done } = await this.runs.runNow(task, principal.keyId);
    if (!wait) return execution;
    await done;
    return (await this.executions.findById(execution.id)) ?? execution;
  }

  async list(principal: Principal, taskId: string, query: ListExecutionsQueryDto) {
    await this.tasks.findVisible(principal, taskId);
    return this.executions.findPage(taskId, query.status, query.limit ?? DEFAULT_PAGE, query.offset ?? 0);
  }

  async get(principal: Principal, taskId: string, executionId: string): Promise<Execution> {
    await this.tasks.findVisible(principal, taskId);
    const execution = await this.executions.findOne(taskId, executionId);
    if (!execution) throw new NotFoundError('Execution not found');
    return execution;
  }

  async cancel(principal: Principal, taskId: string, executionId: string): Promise<Execution> {
    const task = await this.tasks.findVisible(principal, taskId);
    this.tasks.assertHostCommandPermission(principal, task.type, task.config);
    const execution = await this.get(principal, taskId, executionId);
    await this.runs.cancel(execution);
    return (await this.executions.findById(executionId)) ?? execution;
  }
}
