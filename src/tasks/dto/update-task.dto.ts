import { ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation';
import { TASK_TYPES, type TaskType } from '../task-type';
import { TaskFieldsDto } from './create-task.dto';

/** Partial at the top level: absent fields stay; a config object given replaces the old one. */
export class UpdateTaskDto extends PartialType(TaskFieldsDto, { skipNullProperties: false }) {
  @ApiPropertyOptional({ enum: TASK_TYPES, description: 'Accepted only if equal to the current type' })
  @IsOptionalNotNull() @IsIn(TASK_TYPES)
  type?: TaskType;
}
