import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../execution-status';
import type { Task } from '../entities/task.entity';
import { CONFIG_PROPERTY, type TaskConfigByType } from '../task-config';
import { TASK_TYPES, type TaskType } from '../task-type';
import { ExecutionDto } from './execution.dto';
import {
  BackupConfigDto,
  ContainerUpdateConfigDto,
  CustomConfigDto,
  HealthCheckConfigDto,
} from './task-config.dto';

export class TaskSummaryDto {
  @ApiProperty({ example: 'task-123' })
  id: string;

  @ApiProperty({ example: 'Daily Backup' })
  name: string;

  @ApiProperty({ enum: TASK_TYPES, example: 'backup' })
  type: TaskType;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({ example: 'my-project' })
  projectId: string;

  @ApiProperty({ example: 'My Project' })
  projectName: string;

  @ApiProperty({ example: '0 2 * * *' })
  cronExpression: string;

  @ApiProperty({ example: 'America/New_York' })
  timezone: string;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2026-01-20T07:00:00.000Z', description: 'Null while disabled' })
  nextRun: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2026-01-19T07:00:00.000Z' })
  lastRun: string | null;

  @ApiProperty({ nullable: true, enum: EXECUTION_STATUSES, example: 'success' })
  lastStatus: ExecutionStatus | null;

  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' })
  updatedAt: string;
}

export class TaskDto extends TaskSummaryDto {
  @ApiProperty({ description: 'Effective run time limit in seconds', example: 7200 })
  timeoutSeconds: number;

  @ApiPropertyOptional({ type: HealthCheckConfigDto, description: 'Only on tasks of type health-check, with every default filled in' })
  healthCheckConfig?: TaskConfigByType['health-check'];

  @ApiPropertyOptional({ type: BackupConfigDto, description: 'Only on tasks of type backup, with every default filled in' })
  backupConfig?: TaskConfigByType['backup'];

  @ApiPropertyOptional({ type: ContainerUpdateConfigDto, description: 'Only on tasks of type container-update, with every default filled in' })
  containerUpdateConfig?: TaskConfigByType['container-update'];

  @ApiPropertyOptional({ type: CustomConfigDto, description: 'Only on tasks of type custom, with every default filled in' })
  customConfig?: TaskConfigByType['custom'];
}

export class TaskDetailDto extends TaskDto {
  @ApiProperty({ type: [ExecutionDto], description: 'Most recent executions, newest first' })
  history: ExecutionDto[];
}

export class TaskListResponseDto {
  @ApiProperty({ type: [TaskSummaryDto] })
  tasks: TaskSummaryDto[];

  @ApiProperty({ description: 'Tasks matching the filters, before paging', example: 1 })
  total: number;
}

export class TaskWriteResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ type: TaskDto })
  task: TaskDto;
}

export class TaskDeletedResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ example: 'Task deleted' })
  message: string;
}

/** What a task's response shows, computed by the service (nextRun may be refreshed). */
export interface TaskView {
  task: Task;
  projectName: string;
  nextRun: Date | null;
  timeoutSeconds: number;
}

export function mapTaskSummary({ task, projectName, nextRun }: TaskView): TaskSummaryDto {
  return {
    id: task.id,
    name: task.name,
    type: task.type,
    enabled: task.enabled,
    projectId: task.projectId,
    projectName,
    cronExpression: task.cronExpression,
    timezone: task.timezone,
    nextRun: nextRun?.toISOString() ?? null,
    lastRun: task.lastRun?.toISOString() ?? null,
    lastStatus: task.lastStatus,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
  };
}

export function mapTask(view: TaskView): TaskDto {
  return {
    ...mapTaskSummary(view),
    timeoutSeconds: view.timeoutSeconds,
    [CONFIG_PROPERTY[view.task.type]]: view.task.config,
  };
}
