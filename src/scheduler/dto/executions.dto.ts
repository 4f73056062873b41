import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { QueryBoolean, QueryInt } from '../../common/validation';
import { ExecutionDto, mapExecution } from '../../tasks/dto/execution.dto';
import type { Execution } from '../../tasks/entities/execution.entity';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../tasks/execution-status';

export class RunTaskQueryDto {
  @ApiPropertyOptional({ type: Boolean, default: true, description: 'false: answer 202 at once with the running execution' })
  @IsOptional() @QueryBoolean() @IsBoolean()
  wait?: boolean;
}

export class ListExecutionsQueryDto {
  @ApiPropertyOptional({ enum: EXECUTION_STATUSES })
  @IsOptional() @IsIn(EXECUTION_STATUSES)
  status?: ExecutionStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 })
  @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional() @QueryInt() @IsInt() @Min(0) @Max(1_000_000_000)
  offset?: number;
}

class ExecutionOutputDto {
  @ApiProperty({ example: 'VACUUM\n' })
  stdout: string;

  @ApiProperty({ example: '' })
  stderr: string;
}

export class ExecutionDetailDto extends ExecutionDto {
  @ApiProperty({
    type: ExecutionOutputDto,
    nullable: true,
    description: 'Captured output of commands (bounded by OUTPUT_LIMIT_BYTES per stream; known secrets masked)',
  })
  output: ExecutionOutputDto | null;
}

export class RunTaskResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ type: ExecutionDto })
  execution: ExecutionDto;
}

export class ExecutionListResponseDto {
  @ApiProperty({ type: [ExecutionDto] })
  executions: ExecutionDto[];

  @ApiProperty({ example: 42 })
  total: number;
}

export function mapExecutionDetail(execution: Execution): ExecutionDetailDto {
  return { ...mapExecution(execution), output: execution.output };
}
