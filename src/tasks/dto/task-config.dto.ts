import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation';
import {
  BACKUP_DESTINATIONS,
  BACKUP_TYPES,
  DEFAULT_ENDPOINT_EXPECT_STATUS,
  DEFAULT_ENDPOINT_TIMEOUT_MS,
} from '../task-config';

const NOT_BLANK = /\S/;

export class HealthCheckEndpointDto {
  @ApiProperty({ description: 'http or https URL to probe; only status and latency are kept', example: 'http://127.0.0.1:8080/healthz' })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, require_valid_protocol: true })
  @Length(1, 2000)
  url: string;

  @ApiPropertyOptional({ default: DEFAULT_ENDPOINT_EXPECT_STATUS, minimum: 100, maximum: 599 })
  @IsOptionalNotNull() @IsInt() @Min(100) @Max(599)
  expectStatus?: number;

  @ApiPropertyOptional({ default: DEFAULT_ENDPOINT_TIMEOUT_MS, minimum: 100, maximum: 60000 })
  @IsOptionalNotNull() @IsInt() @Min(100) @Max(60_000)
  timeoutMs?: number;
}

export class HealthCheckConfigDto {
  @ApiPropertyOptional({ default: true, description: 'Every container running, and healthy where it has a HEALTHCHECK' })
  @IsOptionalNotNull() @IsBoolean()
  checkContainers?: boolean;

  @ApiPropertyOptional({ default: true, description: 'Each published TCP port accepts a connection; each endpoint answers as expected' })
  @IsOptionalNotNull() @IsBoolean()
  checkConnectivity?: boolean;

  @ApiPropertyOptional({ default: false, description: 'POST to ALERT_WEBHOOK_URL on failure and on the first success after one' })
  @IsOptionalNotNull() @IsBoolean()
  alertOnFailure?: boolean;

  @ApiPropertyOptional({ type: [HealthCheckEndpointDto], default: [] })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => HealthCheckEndpointDto)
  endpoints?: HealthCheckEndpointDto[];
}

export class BackupRetentionDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 10000, description: 'Keep the newest N backups this task made of its project (the new one included); applied after a verified success', example: 7 })
  @IsOptionalNotNull() @IsInt() @Min(1) @Max(10_000)
  keepLast?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 36500, description: "Delete this task's backups of its project older than this; applied after a verified success", example: 30 })
  @IsOptionalNotNull() @IsInt() @Min(1) @Max(36_500)
  maxAgeDays?: number;
}

export class BackupHookDto {
  @ApiProperty({ description: 'Container name or Compose service of the project', example: 'db' })
  @IsString() @Length(1, 200) @Matches(NOT_BLANK)
  container: string;

  @ApiProperty({ example: 'pg_dump -U postgres -f /backup/dump.sql app' })
  @IsString() @Length(1, 10_000) @Matches(NOT_BLANK)
  command: string;
}

export class BackupHooksDto {
  @ApiPropertyOptional({ type: [BackupHookDto], default: [] })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => BackupHookDto)
  before?: BackupHookDto[];

  @ApiPropertyOptional({ type: [BackupHookDto], default: [] })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => BackupHookDto)
  after?: BackupHookDto[];
}

export class BackupConfigDto {
  @ApiPropertyOptional({ enum: BACKUP_TYPES, default: 'full', description: 'full: volumes, bind mounts and a manifest; volumes; config: the manifest only' })
  @IsOptionalNotNull() @IsIn(BACKUP_TYPES)
  type?: (typeof BACKUP_TYPES)[number];

  @ApiPropertyOptional({ enum: BACKUP_DESTINATIONS, default: 'local' })
  @IsOptionalNotNull() @IsIn(BACKUP_DESTINATIONS)
  destination?: (typeof BACKUP_DESTINATIONS)[number];

  @ApiPropertyOptional({ default: false, description: 'Encrypt with age to BACKUP_AGE_RECIPIENTS (or BACKUP_AGE_PASSPHRASE)' })
  @IsOptionalNotNull() @IsBoolean()
  encrypt?: boolean;

  @ApiPropertyOptional({ default: false, description: "Stop the project's running containers during the copy (after the before hooks); they are always started again, also after a failure or a crash" })
  @IsOptionalNotNull() @IsBoolean()
  stopContainers?: boolean;

  @ApiPropertyOptional({ type: BackupRetentionDto, nullable: true, default: null })
  @IsOptional() @ValidateNested() @Type(() => BackupRetentionDto)
  retention?: BackupRetentionDto | null;

  @ApiPropertyOptional({ type: BackupHooksDto })
  @IsOptionalNotNull() @ValidateNested() @Type(() => BackupHooksDto)
  hooks?: BackupHooksDto;
}

export class ContainerUpdateConfigDto {
  @ApiPropertyOptional({ default: true })
  @IsOptionalNotNull() @IsBoolean()
  pullImages?: boolean;

  @ApiPropertyOptional({ default: true, description: 'Recreate containers whose image changed (rolled back if they do not come up)' })
  @IsOptionalNotNull() @IsBoolean()
  restartAfterUpdate?: boolean;
}

export class CustomConfigDto {
  @ApiProperty({ example: "psql -U postgres -c 'VACUUM ANALYZE;'", maxLength: 10000 })
  @IsString() @Length(1, 10_000) @Matches(NOT_BLANK, { message: 'command must not be blank' })
  command: string;

  @ApiPropertyOptional({
    nullable: true,
    description: 'Container name or Compose service of the project to exec in. Without it the command runs on the host (needs tasks:host-commands).',
    example: 'db',
  })
  @IsOptional() @IsString() @Length(1, 200) @Matches(NOT_BLANK)
  container?: string | null;
}
