import { Injectable } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import {
  ForbiddenError,
  ProjectNotFoundError,
  TaskNotFoundError,
  ValidationFailedError,
  type FieldError,
} from '../common/errors/domain-errors';
import { hostAllowed } from '../common/allowed-hosts';
import { newId } from '../common/ids';
import { canAccessProject, hasPermission, type Principal } from '../permissions/principal';
import { ProjectsRepository } from '../projects/projects.repository';
import { CronEvaluator } from './cron-evaluator';
import type { CreateTaskDto, TaskFieldsDto } from './dto/create-task.dto';
import { DEFAULT_PAGE_SIZE, type ListTasksQueryDto } from './dto/list-tasks-query.dto';
import type { TaskView } from './dto/task-response.dto';
import type { UpdateTaskDto } from './dto/update-task.dto';
import { Execution } from './entities/execution.entity';
import { Task } from './entities/task.entity';
import { ExecutionsRepository } from './executions.repository';
import { TaskChanges } from './task-changes';
import { CONFIG_PROPERTY, isHostCommand, type HealthCheckConfig, type TaskConfig } from './task-config';
import { resolveTaskConfig } from './task-config.defaults';
import { TASK_TYPES, type TaskType } from './task-type';
import { TasksRepository, type TaskWithProject } from './tasks.repository';

type ConfigFields = Pick<TaskFieldsDto, (typeof CONFIG_PROPERTY)[TaskType]>;

/** 400 for a config object that belongs to another type; the type's own config, if given. */
function configFor(type: TaskType, body: ConfigFields): ConfigFields[(typeof CONFIG_PROPERTY)[TaskType]] {
  const foreign: FieldError[] = TASK_TYPES.filter((other) => other !== type && body[CONFIG_PROPERTY[other]] !== undefined).map(
    (other) => ({ field: CONFIG_PROPERTY[other], message: `${CONFIG_PROPERTY[other]} is not allowed for a task of type ${type}` }),
  );
  if (foreign.length > 0) throw new ValidationFailedError(foreign);
  return body[CONFIG_PROPERTY[type]];
}

@Injectable()
export class TasksService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly executions: ExecutionsRepository,
    private readonly projects: ProjectsRepository,
    private readonly cron: CronEvaluator,
    private readonly config: AppConfigService,
    private readonly changes: TaskChanges,
  ) {}

  async list(principal: Principal, query: ListTasksQueryDto): Promise<{ views: TaskView[]; total: number }> {
    const { tasks, total } = await this.tasks.findPage(
      { projectId: query.projectId, type: query.type, enabled: query.enabled, projectIds: principal.projectIds },
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.offset ?? 0,
    );
    const now = new Date();
    return { views: tasks.map((task) => this.view(task, task.project.name, now)), total };
  }

  async get(principal: Principal, id: string): Promise<{ view: TaskView; history: Execution[] }> {
    // Both reads at once; the history is simply dropped when the task turns out to be invisible.
    const [task, history] = await Promise.all([
      this.findVisible(principal, id),
      this.executions.findRecent(id, this.config.historyInTaskResponse),
    ]);
    return { view: this.view(task, task.project.name, new Date()), history };
  }

  async create(principal: Principal, body: CreateTaskDto): Promise<TaskView> {
    const config = this.resolveConfig(body.type, body);
    this.assertHostCommandAllowed(principal, body.type, config);
    this.assertEndpointsAllowed(body.type, config);
    const timezone = body.timezone ?? 'UTC';
    this.cron.parse(body.cronExpression, timezone);
    const projectName = await this.visibleProjectName(principal, body.projectId);

    const task = new Task();
    task.id = newId('task');
    task.name = body.name;
    task.type = body.type;
    task.enabled = body.enabled ?? true;
    task.projectId = body.projectId;
    task.cronExpression = body.cronExpression;
    task.timezone = timezone;
    task.config = config;
    task.timeoutSeconds = body.timeoutSeconds ?? null;
    task.scheduledFrom = new Date();
    task.nextRun = this.scheduledNextRun(task, task.scheduledFrom);
    task.lastRun = null;
    task.lastStatus = null;
    task.revision = 1;
    const saved = await this.tasks.insert(task);
    await this.changes.publish(saved.id);
    return this.view(saved, projectName, new Date());
  }

  async update(principal: Principal, id: string, body: UpdateTaskDto): Promise<TaskView> {
    const task = await this.findVisible(principal, id);
    if (body.type !== undefined && body.type !== task.type) {
      throw new ValidationFailedError([{ field: 'type', message: `type cannot change (the task is ${task.type})` }]);
    }
    const givenConfig = configFor(task.type, body);
    // Touching a host-command task at all (its schedule, say) is host-command power.
    this.assertHostCommandPermission(principal, task.type, task.config);
    let config = task.config;
    if (givenConfig !== undefined) {
      config = this.resolveConfig(task.type, body);
      this.assertHostCommandAllowed(principal, task.type, config);
      this.assertEndpointsAllowed(task.type, config);
    }

    const cronExpression = body.cronExpression ?? task.cronExpression;
    const timezone = body.timezone ?? task.timezone;
    this.cron.parse(cronExpression, timezone);
    const projectId = body.projectId ?? task.projectId;
    const projectName =
      projectId === task.projectId ? task.project.name : await this.visibleProjectName(principal, projectId);

    const scheduleChanged =
      cronExpression !== task.cronExpression ||
      timezone !== task.timezone ||
      (body.enabled !== undefined && body.enabled !== task.enabled);
    task.name = body.name ?? task.name;
    task.enabled = body.enabled ?? task.enabled;
    task.projectId = projectId;
    task.cronExpression = cronExpression;
    task.timezone = timezone;
    task.config = config;
    if (body.timeoutSeconds !== undefined) task.timeoutSeconds = body.timeoutSeconds;
    if (scheduleChanged) {
      task.scheduledFrom = new Date();
      task.nextRun = this.scheduledNextRun(task, task.scheduledFrom);
    }
    task.revision += 1;
    // The loaded relation would win over projectId when saving.
    const { project: _previousProject, ...columns } = task;
    const saved = await this.tasks.save(Object.assign(new Task(), columns));
    await this.changes.publish(saved.id);
    return this.view(saved, projectName, new Date());
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const task = await this.findVisible(principal, id);
    this.assertHostCommandPermission(principal, task.type, task.config);
    await this.tasks.delete(id);
    await this.changes.publish(id);
  }

  /** Tasks of projects outside the key's scope behave as if they did not exist. */
  async findVisible(principal: Principal, id: string): Promise<TaskWithProject> {
    const task = await this.tasks.findWithProject(id);
    if (!task || !canAccessProject(principal, task.projectId)) throw new TaskNotFoundError();
    return task;
  }

  private async visibleProjectName(principal: Principal, projectId: string): Promise<string> {
    const project = canAccessProject(principal, projectId) ? await this.projects.findById(projectId) : null;
    if (!project) throw new ProjectNotFoundError();
    return project.name;
  }

  private resolveConfig(type: TaskType, body: ConfigFields): TaskConfig {
    const given = configFor(type, body);
    if (type === 'custom' && given === undefined) {
      throw new ValidationFailedError([{ field: 'customConfig', message: 'customConfig (with command) is required for a task of type custom' }]);
    }
    return resolveTaskConfig(type, given as never);
  }

  assertHostCommandPermission(principal: Principal, type: TaskType, config: TaskConfig): void {
    if (isHostCommand(type, config) && !hasPermission(principal, 'tasks:host-commands')) {
      throw new ForbiddenError('Missing permission: tasks:host-commands (a custom task without container runs on the host)');
    }
  }

  /** For a config being saved: the permission, and the server allowing host commands at all. */
  private assertHostCommandAllowed(principal: Principal, type: TaskType, config: TaskConfig): void {
    this.assertHostCommandPermission(principal, type, config);
    if (isHostCommand(type, config) && !this.config.customHostCommandsEnabled) {
      throw new ValidationFailedError([
        { field: 'customConfig.container', message: 'host commands are disabled on this server (CUSTOM_HOST_COMMANDS=disabled): name a container' },
      ]);
    }
  }

  /** Health-check endpoints outside HEALTHCHECK_ALLOWED_HOSTS are refused when saved (and not probed at run time). */
  private assertEndpointsAllowed(type: TaskType, config: TaskConfig): void {
    if (type !== 'health-check') return;
    const allowed = this.config.healthCheckAllowedHosts;
    const refused = (config as HealthCheckConfig).endpoints.flatMap((endpoint, index) => {
      const url = new URL(endpoint.url);
      return hostAllowed(url, allowed)
        ? []
        : [{ field: `healthCheckConfig.endpoints.${index}.url`, message: `host ${url.host} is not allowed on this server (HEALTHCHECK_ALLOWED_HOSTS)` }];
    });
    if (refused.length > 0) throw new ValidationFailedError(refused);
  }

  private scheduledNextRun(task: Task, now: Date): Date | null {
    return task.enabled ? this.cron.nextRun(task.cronExpression, task.timezone, now) : null;
  }

  /**
   * The stored nextRun is the scheduler's; one in the past (no scheduler has fired it yet) is
   * recomputed so that responses never show a slot that is already gone.
   */
  private view(task: Task, projectName: string, now: Date): TaskView {
    const stored = task.nextRun;
    const nextRun = !task.enabled ? null : stored && stored > now ? stored : this.scheduledNextRun(task, now);
    return {
      task,
      projectName,
      nextRun,
      timeoutSeconds: task.timeoutSeconds ?? this.config.defaultTimeoutSeconds(task.type),
    };
  }
}
