import { Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../common/dto/api-errors.decorator';
import { CurrentPrincipal, RequirePermissions } from '../permissions/permissions.decorators';
import type { Principal } from '../permissions/principal';
import { mapExecution } from '../tasks/dto/execution.dto';
import {
  ExecutionDetailDto,
  ExecutionListResponseDto,
  ListExecutionsQueryDto,
  mapExecutionDetail,
  RunTaskQueryDto,
  RunTaskResponseDto,
} from './dto/executions.dto';
import { ExecutionsService } from './executions.service';


@ApiTags('Tasks')
@Controller('tasks/:id')
export class ExecutionsController {
  constructor(private readonly executions: ExecutionsService) {}

  @Post('run')
  @HttpCode(200)
  @RequirePermissions('tasks:write')
  @ApiOperation({
    summary: 'Run a task now',
    description:
      'Runs now, whatever the schedule or `enabled`. Answers 200 with the finished execution — also when the work failed ' +
      '(`execution.status` says so). With `wait=false`, answers 202 at once with the running execution. ' +
      'A custom task on the host also needs tasks:host-commands.',
  })
  @ApiOkResponse({ type: RunTaskResponseDto })
  @ApiAcceptedResponse({ type: RunTaskResponseDto, description: 'wait=false: the run has started' })
  @ApiErrors(400, 'Validation failed')
  @ApiErrors(404, 'Task not found', 'Execution not found')
  @ApiErrors(409, 'Task is already running')
  async run(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: RunTaskQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RunTaskResponseDto> {
    const wait = query.wait ?? true;
    const execution = await this.executions.run(principal, id, wait);
    if (!wait) void reply.status(202);
    return { success: true, execution: mapExecution(execution) };
  }

  @Get('executions')
  @RequirePermissions('tasks:read')
  @ApiOperation({ summary: "A task's executions, newest first" })
  @ApiOkResponse({ type: ExecutionListResponseDto })
  @ApiErrors(400, 'Validation failed')
  @ApiErrors(404, 'Task not found', 'Execution not found')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: ListExecutionsQueryDto,
  ): Promise<ExecutionListResponseDto> {
    const { executions, total } = await this.executions.list(principal, id, query);
    return { executions: executions.map(mapExecution), total };
  }

  @Get('executions/:executionId')
  @RequirePermissions('tasks:read')
  @ApiOperation({ summary: 'One execution, with its captured output' })
  @ApiOkResponse({ type: ExecutionDetailDto })
  @ApiErrors(404, 'Task not found', 'Execution not found')
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('executionId') executionId: string,
  ): Promise<ExecutionDetailDto> {
    return mapExecutionDetail(await this.executions.get(principal, id, executionId));
  }

  @Post('executions/:executionId/cancel')
  @HttpCode(200)
  @RequirePermissions('tasks:write')
  @ApiOperation({
    summary: 'Cancel a running execution',
    description: 'On this replica the run stops at once and the answer shows it `cancelled`; on another replica it stops at that replica\'s next tick.',
  })
  @ApiOkResponse({ type: RunTaskResponseDto })
  @ApiErrors(404, 'Task not found', 'Execution not found')
  @ApiErrors(409, 'Execution is not running')
  async cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('executionId') executionId: string,
  ): Promise<RunTaskResponseDto> {
    return { success: true, execution: mapExecution(await this.executions.cancel(principal, id, executionId)) };
  }
}
