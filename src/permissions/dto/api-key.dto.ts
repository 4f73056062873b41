import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
} from 'class-validator';
import type { ApiKey } from '../entities/api-key.entity';
import { GRANTABLE_PERMISSIONS, type Permission } from '../permission';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci-deploy', maxLength: 200 })
  @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiProperty({ enum: GRANTABLE_PERMISSIONS, isArray: true, example: ['tasks:read', 'tasks:write'] })
  @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsIn(GRANTABLE_PERMISSIONS, { each: true })
  permissions: Permission[];

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['production'],
    description: 'Limit the key to these projects; omitted or null = every project the creator can reach',
  })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @ArrayUnique() @IsString({ each: true }) @Length(1, 63, { each: true })
  projectIds?: string[] | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', example: '2027-01-01T00:00:00Z', description: 'After this instant the key is refused' })
  @IsOptional() @IsISO8601({ strict: true, strictSeparator: true })
  expiresAt?: string | null;
}

export class ApiKeyDto {
  @ApiProperty({ example: 'key-8c1f2e3d4b5a6978' })
  id: string;

  @ApiProperty({ example: 'ci-deploy' })
  name: string;

  @ApiProperty({ enum: GRANTABLE_PERMISSIONS, isArray: true, example: ['tasks:read', 'tasks:write'] })
  permissions: Permission[];

  @ApiProperty({ type: [String], nullable: true, example: ['production'], description: 'Null: every project' })
  projectIds: string[] | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  expiresAt: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-29T12:00:00.000Z' })
  createdAt: string;
}

export class ApiKeyCreatedResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ type: ApiKeyDto })
  apiKey: ApiKeyDto;

  @ApiProperty({ description: 'The secret. Shown once: only its hash is stored.', example: 'dts_2bW3k...' })
  key: string;
}

export class ApiKeyListResponseDto {
  @ApiProperty({ type: [ApiKeyDto] })
  apiKeys: ApiKeyDto[];
}

export class ApiKeyRevokedResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ example: 'API key revoked' })
  message: string;
}

export function mapApiKey(apiKey: ApiKey): ApiKeyDto {
  return {
    id: apiKey.id,
    name: apiKey.name,
    permissions: apiKey.permissions,
    projectIds: apiKey.projectIds,
    expiresAt: apiKey.expiresAt?.toISOString() ?? null,
    createdAt: apiKey.createdAt.toISOString(),
  };
}

export class CallerDto {
  @ApiProperty({ example: 'key-8c1f2e3d4b5a6978', description: '`admin-env` for ADMIN_API_KEY' })
  keyId: string;

  @ApiProperty({ enum: GRANTABLE_PERMISSIONS, isArray: true, example: ['tasks:read'] })
  permissions: Permission[];

  @ApiProperty({ type: [String], nullable: true, example: null, description: 'Null: every project' })
  projectIds: string[] | null;
}
