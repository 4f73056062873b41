import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { QueryBoolean, QueryInt } from '../../common/validation';
import { TASK_TYPES, type TaskType } from '../task-type';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export class ListTasksQueryDto {
  @ApiPropertyOptional({ example: 'my-project' })
  @IsOptional() @IsString() @Length(1, 63)
  projectId?: string;

  @ApiPropertyOptional({ enum: TASK_TYPES, example: 'backup' })
  @IsOptional() @IsIn(TASK_TYPES)
  type?: TaskType;

  @ApiPropertyOptional({ type: Boolean, example: true })
  @IsOptional() @QueryBoolean() @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional() @QueryInt() @IsInt() @Min(0) @Max(1_000_000_000)
  offset?: number;
}
