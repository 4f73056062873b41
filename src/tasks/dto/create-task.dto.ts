import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsObject, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation';
import { TASK_TYPES, type TaskType } from '../task-type';
import {
  BackupConfigDto,
  ContainerUpdateConfigDto,
  CustomConfigDto,
  HealthCheckConfigDto,
} from './task-config.dto';

export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** Fields a task carries whatever its type; shared by create and update. */
export class TaskFieldsDto {
  @ApiProperty({ example: 'Daily Full Backup', maxLength: 200 })
  @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiPropertyOptional({ default: true })
  @IsOptionalNotNull() @IsBoolean()
  enabled?: boolean;

  @ApiProperty({ example: 'production', description: 'An existing project id' })
  @IsString() @Length(1, 63)
  projectId: string;

  @ApiProperty({
    example: '0 2 * * *',
    description: 'Five-field cron (minute hour day-of-month month day-of-week), cronie syntax, or @daily etc.',
  })
  @IsString()
  cronExpression: string;

  @ApiPropertyOptional({ default: 'UTC', example: 'America/New_York', description: 'IANA time zone' })
  @IsOptionalNotNull() @IsString()
  timezone?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_TIMEOUT_SECONDS,
    description: 'Run time limit; defaults by type (see README)',
    example: 3600,
  })
  @IsOptionalNotNull() @IsInt() @Min(1) @Max(MAX_TIMEOUT_SECONDS)
  timeoutSeconds?: number;

  @ApiPropertyOptional({ type: HealthCheckConfigDto, description: 'Only for type health-check' })
  @IsOptionalNotNull() @IsObject() @ValidateNested() @Type(() => HealthCheckConfigDto)
  healthCheckConfig?: HealthCheckConfigDto;

  @ApiPropertyOptional({ type: BackupConfigDto, description: 'Only for type backup' })
  @IsOptionalNotNull() @IsObject() @ValidateNested() @Type(() => BackupConfigDto)
  backupConfig?: BackupConfigDto;

  @ApiPropertyOptional({ type: ContainerUpdateConfigDto, description: 'Only for type container-update' })
  @IsOptionalNotNull() @IsObject() @ValidateNested() @Type(() => ContainerUpdateConfigDto)
  containerUpdateConfig?: ContainerUpdateConfigDto;

  @ApiPropertyOptional({ type: CustomConfigDto, description: 'Only for type custom; required there' })
  @IsOptionalNotNull() @IsObject() @ValidateNested() @Type(() => CustomConfigDto)
  customConfig?: CustomConfigDto;
}

export class CreateTaskDto extends TaskFieldsDto {
  @ApiProperty({ enum: TASK_TYPES, example: 'backup' })
  @IsIn(TASK_TYPES)
  type: TaskType;
}
