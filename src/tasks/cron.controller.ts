import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/dto/api-errors.decorator';
import { RequirePermissions } from '../permissions/permissions.decorators';
import { CronEvaluator } from './cron-evaluator';
import { CronPreviewQueryDto, CronPreviewResponseDto } from './dto/cron-preview.dto';

@ApiTags('Tasks')
@Controller('cron')
export class CronController {
  constructor(private readonly cron: CronEvaluator) {}

  @Get('preview')
  @RequirePermissions('tasks:read')
  @ApiOperation({
    summary: 'Preview a schedule',
    description: 'The next fire times of an expression in a time zone, computed exactly as the scheduler will (DST rules included).',
  })
  @ApiOkResponse({ type: CronPreviewResponseDto })
  @ApiErrors(400, 'Validation failed', 'Invalid cron expression', 'Invalid timezone')
  preview(@Query() query: CronPreviewQueryDto): CronPreviewResponseDto {
    const timezone = query.timezone ?? 'UTC';
    const { description, nextRuns } = this.cron.preview(query.expression, timezone, query.count ?? 5, new Date());
    return { expression: query.expression, timezone, description, nextRuns: nextRuns.map((run) => run.toISOString()) };
  }
}
