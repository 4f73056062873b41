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

  @IsOptional() @Transform(toBool) @IsBoolean()
  SCHEDULER_ENABLED = true;

  @IsOptional() @IsString() @Matches(/^[\w.-]{1,100}$/, { message: 'REPLICA_ID may hold letters, digits, _, . and - (at most 100)' })
  REPLICA_ID?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  MAX_CONCURRENT_RUNS = 8;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(7 * 86_400)
  CATCH_UP_WINDOW_SECONDS = 3600;

  @IsOptional() @Transform(toInt) @IsInt() @Min(5) @Max(3600)
  RUN_LEASE_SECONDS = 30;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(300)
  SCHEDULER_TICK_SECONDS = 5;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(3600)
  RECONCILE_INTERVAL_SECONDS = 30;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(3600)
  SHUTDOWN_GRACE_SECONDS = 30;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(16 * 1024 * 1024)
  OUTPUT_LIMIT_BYTES = 64 * 1024;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  HISTORY_MAX_PER_TASK = 1000;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(36_500)
  HISTORY_MAX_AGE_DAYS = 90;

  @IsOptional() @IsIn(['key', 'public'])
  METRICS_ACCESS: 'key' | 'public' = 'key';

  @IsOptional() @IsString() @Matches(/^[a-z_][a-z0-9_-]*\$?$/i, { message: 'CUSTOM_HOST_COMMANDS_USER must be a user name' })
  CUSTOM_HOST_COMMANDS_USER?: string;

  @IsOptional() @Matches(/^(unix|tcp|ssh|http|https):\/\/\S+$/, { message: 'DOCKER_HOST must be a unix://, tcp://, ssh:// or http(s):// address, as the docker CLI reads it' })
  DOCKER_HOST?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(600)
  DOCKER_API_TIMEOUT_SECONDS = 30;

  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'ALERT_WEBHOOK_URL must be an http(s):// URL' })
  ALERT_WEBHOOK_URL?: string;

  @IsOptional() @Transform(toBool) @IsBoolean()
  ALERT_ON_RUN_FAILURE = false;

  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(60_000)
  ALERT_TIMEOUT_MS = 5000;

  @IsOptional() @Transform(toList) @IsString({ each: true })
  @Matches(/^(\*\.)?[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:.]+\](:\d+)?$/i, { each: true, message: 'HEALTHCHECK_ALLOWED_HOSTS must be a comma-separated list of host names (optionally *.domain, optionally :port)' })
  HEALTHCHECK_ALLOWED_HOSTS: string[] = [];

  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(60_000)
  HEALTHCHECK_PORT_TIMEOUT_MS = 3000;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(600)
  CONTAINER_UPDATE_SETTLE_SECONDS = 5;

  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'S3_ENDPOINT must be an http(s):// URL (unset = AWS)' })
  S3_ENDPOINT?: string;

  @IsOptional() @IsString() @Matches(/^[a-z0-9-]{2,40}$/, { message: 'S3_REGION must be a region name like eu-central-1' })
  S3_REGION = 'us-east-1';

  @IsOptional() @IsString() @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'S3_BUCKET must be a bucket name' })
  S3_BUCKET?: string;

  @IsOptional() @IsString() @Matches(/^([^/\s][^\s]*\/)?$/, { message: 'S3_PREFIX must be empty or end with / (e.g. backups/)' })
  S3_PREFIX = '';

  @IsOptional() @IsString()
  S3_ACCESS_KEY_ID?: string;

  @IsOptional() @IsString()
  S3_SECRET_ACCESS_KEY?: string;

  @IsOptional() @Transform(toBool) @IsBoolean()
  S3_FORCE_PATH_STYLE = false;

  @IsOptional() @IsString()
  BACKUP_LOCAL_DIR?: string;

  @IsOptional() @Transform(toList) @IsString({ each: true })
  @Matches(/^age1[02-9ac-hj-np-z]{58}$/, { each: true, message: 'BACKUP_AGE_RECIPIENTS must be a comma-separated list of age X25519 public keys (age1…)' })
  BACKUP_AGE_RECIPIENTS: string[] = [];

  @IsOptional() @IsString() @MinLength(12, { message: 'BACKUP_AGE_PASSPHRASE must be at least 12 characters' })
  BACKUP_AGE_PASSPHRASE?: string;

  @IsOptional() @IsString()
  BACKUP_AGE_IDENTITY_FILE?: string;

  @IsOptional() @IsString() @Matches(/^\S+$/, { message: 'BACKUP_HELPER_IMAGE must be an image reference' })
  BACKUP_HELPER_IMAGE = 'busybox:1.37';

  /** Filled by `validateEnvironment`; not an environment variable. */
  secrets: Partial<Record<(typeof SECRET_VARIABLES)[number], string>> = {};
}

/** Variables whose values are secrets: masked wherever command output is stored. */
export const SECRET_VARIABLES = [
  'ADMIN_API_KEY',
  'DATABASE_URL',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'BACKUP_AGE_PASSPHRASE',
  'ALERT_WEBHOOK_URL',
] as const;

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
  // Secrets read by later parts (S3, age, webhooks) are kept for masking even before they are validated here.
  environment.secrets = Object.fromEntries(SECRET_VARIABLES.map((name) => [name, relevant[name] as string | undefined]));
  return environment;
}
