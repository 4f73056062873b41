import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/dto/api-errors.decorator';
import { CurrentPrincipal, RequirePermissions } from '../permissions/permissions.decorators';
import type { Principal } from '../permissions/principal';
import { CreateTaskDto } from './dto/create-task.dto';
import { mapExecution } from './dto/execution.dto';
import { ListTasksQueryDto } from './dto/list-tasks-query.dto';
import {
  mapTask,
  mapTaskSummary,
  TaskDeletedResponseDto,
  TaskDetailDto,
  TaskListResponseDto,
  TaskWriteResponseDto,
} from './dto/task-response.dto';
import { UpdateTaskDto } from './dto/update-task.dto';
import { CREATE_TASK_EXAMPLES, UPDATE_TASK_EXAMPLE } from './tasks.examples';
import { TasksService } from './tasks.service';


@ApiTags('Tasks')
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get()
  @RequirePermissions('tasks:read')
  @ApiOperation({ summary: 'List tasks', description: 'Filter by projectId, type and enabled; page with limit (1-1000, default 100) and offset.' })
  @ApiOkResponse({ type: TaskListResponseDto })
  @ApiErrors(400, 'Validation failed')
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListTasksQueryDto): Promise<TaskListResponseDto> {
    const { views, total } = await this.tasks.list(principal, query);
    return { tasks: views.map(mapTaskSummary), total };
  }

  @Post()
  @RequirePermissions('tasks:write')
  @ApiOperation({
    summary: 'Create a task',
    description:
      'The config object must match the type (healthCheckConfig, backupConfig, containerUpdateConfig, customConfig); omitted settings take their defaults. ' +
      'A custom task without container runs on the host and needs tasks:host-commands as well.',
  })
  @ApiBody({ type: CreateTaskDto, examples: CREATE_TASK_EXAMPLES })
  @ApiCreatedResponse({ type: TaskWriteResponseDto })
  @ApiErrors(400, 'Validation failed', 'Invalid cron expression', 'Invalid timezone', 'Project not found')
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateTaskDto): Promise<TaskWriteResponseDto> {
    return { success: true, task: mapTask(await this.tasks.create(principal, body)) };
  }

  @Get(':id')
  @RequirePermissions('tasks:read')
  @ApiOperation({ summary: 'Get a task, with its most recent executions' })
  @ApiOkResponse({ type: TaskDetailDto })
  @ApiErrors(404, 'Task not found')
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TaskDetailDto> {
    const { view, history } = await this.tasks.get(principal, id);
    return { ...mapTask(view), history: history.map(mapExecution) };
  }

  @Put(':id')
  @RequirePermissions('tasks:write')
  @ApiOperation({
    summary: 'Update a task',
    description: 'Partial at the top level: absent fields stay; a config object that is given replaces the old one. The type cannot change.',
  })
  @ApiBody({ type: UpdateTaskDto, examples: { seed: { value: UPDATE_TASK_EXAMPLE } } })
  @ApiOkResponse({ type: TaskWriteResponseDto })
  @ApiErrors(400, 'Validation failed', 'Invalid cron expression', 'Invalid timezone', 'Project not found')
  @ApiErrors(404, 'Task not found')
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: UpdateTaskDto,
  ): Promise<TaskWriteResponseDto> {
    return { success: true, task: mapTask(await this.tasks.update(principal, id, body)) };
  }

  @Delete(':id')
  @HttpCode(200)
  @RequirePermissions('tasks:write')
  @ApiOperation({ summary: 'Delete a task and its executions', description: 'Stored backups stay.' })
  @ApiOkResponse({ type: TaskDeletedResponseDto })
  @ApiErrors(404, 'Task not found')
  async delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TaskDeletedResponseDto> {
    await this.tasks.delete(principal, id);
    return { success: true, message: 'Task deleted' };
  }
}
