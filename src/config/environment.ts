import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MinLength,
  Min,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
    : value;

/** Every environment variable the service reads, validated once at start-up. */
export class Environment {
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  PORT = 3000;

  @IsOptional() @IsString()
  HOST = '0.0.0.0';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL (unset = embedded SQLite)' })
  DATABASE_URL?: string;

  @IsOptional() @IsString()
  DATA_DIR = './data';

  @IsOptional() @IsString() @MinLength(16, { message: 'ADMIN_API_KEY must be at least 16 characters' })
  ADMIN_API_KEY?: string;

  @IsOptional() @Transform(toList) @IsString({ each: true })
  @Matches(/^https?:\/\/[^/\s]+$/, { each: true, message: 'CORS_ORIGINS must be a comma-separated list of origins like https://admin.example.com' })
  CORS_ORIGINS: string[] = [];

  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 256 * 1024;

  @IsOptional() @IsIn(['log', 'debug', 'verbose', 'warn', 'error'])
  LOG_LEVEL: 'log' | 'debug' | 'verbose' | 'warn' | 'error' = 'log';

  @IsOptional() @Transform(toBool) @IsBoolean()
  LOG_REQUESTS = true;

  @IsOptional() @IsIn(['enabled', 'disabled'])
  CUSTOM_HOST_COMMANDS: 'enabled' | 'disabled' = 'enabled';

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(86_400)
  DEFAULT_TIMEOUT_HEALTH_CHECK_SECONDS = 60;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(86_400)
  DEFAULT_TIMEOUT_BACKUP_SECONDS = 7200;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(86_400)
  DEFAULT_TIMEOUT_CONTAINER_UPDATE_SECONDS = 1800;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(86_400)
  DEFAULT_TIMEOUT_CUSTOM_SECONDS = 600;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  TASK_HISTORY_IN_RESPONSE = 10;
}

export class InvalidEnvironmentError extends Error {}

/** Parses and checks `process.env`; the message names each offending variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const relevant = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const environment = plainToInstance(Environment, relevant, { exposeDefaultValues: true });
  const errors = validateSync(environment, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((error) => {
      const reasons = Object.values(error.constraints ?? {}).join('; ');
      return `${error.property}: ${reasons}`;
    });
    throw new InvalidEnvironmentError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return environment;
}
