import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ErrorResponseDto {
  @ApiProperty({ example: false })
  success: false;

  @ApiProperty({ example: 'Validation failed' })
  error: string;

  @ApiPropertyOptional({
    description: 'More about the error: the fields that failed validation, why a cron expression is invalid, the missing permission',
    example: [{ field: 'name', message: 'name must be a string' }],
  })
  details?: unknown;
}
