import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { QueryInt } from '../../common/validation';

export class CronPreviewQueryDto {
  @ApiProperty({ example: '30 2 * * *' })
  @IsString()
  expression: string;

  @ApiPropertyOptional({ default: 'UTC', example: 'America/New_York' })
  @IsOptional() @IsString()
  timezone?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 5 })
  @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(100)
  count?: number;
}

export class CronPreviewResponseDto {
  @ApiProperty({ example: '30 2 * * *' })
  expression: string;

  @ApiProperty({ example: 'America/New_York' })
  timezone: string;

  @ApiProperty({ example: 'At 02:30, every day' })
  description: string;

  @ApiProperty({ type: [String], format: 'date-time', example: ['2027-03-13T07:30:00.000Z', '2027-03-14T07:00:00.000Z'] })
  nextRuns: string[];
}
