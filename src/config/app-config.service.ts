import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { TaskType } from '../tasks/task-type';
import { Environment, SECRET_VARIABLES } from './environment';

export interface S3Settings {
  /** Unset = AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  /** Unset = the AWS SDK's default chain (instance roles, ~/.aws). */
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Typed, read-only view of the validated environment. */
@Injectable()
export class AppConfigService {
  constructor(private readonly environment: Environment) {}

  private get<K extends keyof Environment>(key: K): Environment[K] {
    return this.environment[key];
  }

  get port(): number {
    return this.get('PORT');
  }

  get host(): string {
    return this.get('HOST');
  }

  get databaseUrl(): string | undefined {
    return this.get('DATABASE_URL');
  }

  get dataDir(): string {
    return resolve(this.get('DATA_DIR'));
  }

  get adminApiKeyFile(): string {
    return join(this.dataDir, 'admin-api-key');
  }

  get adminApiKey(): string | undefined {
    return this.get('ADMIN_API_KEY');
  }

  get corsOrigins(): string[] {
    return this.get('CORS_ORIGINS');
  }

  get customHostCommandsEnabled(): boolean {
    return this.get('CUSTOM_HOST_COMMANDS') === 'enabled';
  }

  get historyInTaskResponse(): number {
    return this.get('TASK_HISTORY_IN_RESPONSE');
  }

  defaultTimeoutSeconds(type: TaskType): number {
    const byType: Record<TaskType, number> = {
      'health-check': this.get('DEFAULT_TIMEOUT_HEALTH_CHECK_SECONDS'),
      backup: this.get('DEFAULT_TIMEOUT_BACKUP_SECONDS'),
      'container-update': this.get('DEFAULT_TIMEOUT_CONTAINER_UPDATE_SECONDS'),
      custom: this.get('DEFAULT_TIMEOUT_CUSTOM_SECONDS'),
    };
    return byType[type];
  }

  get schedulerEnabled(): boolean {
    return this.get('SCHEDULER_ENABLED');
  }

  /** Unique per process unless set: a restarted replica is a new one. */
  get replicaId(): string {
    return this.get('REPLICA_ID') ?? this.generatedReplicaId;
  }

  private readonly generatedReplicaId = `${hostname().slice(0, 60)}-${process.pid}-${randomBytes(3).toString('hex')}`;

  get maxConcurrentRuns(): number {
    return this.get('MAX_CONCURRENT_RUNS');
  }

  get catchUpWindowMs(): number {
    return this.get('CATCH_UP_WINDOW_SECONDS') * 1000;
  }

  get runLeaseMs(): number {
    return this.get('RUN_LEASE_SECONDS') * 1000;
  }

  get schedulerTickMs(): number {
    return this.get('SCHEDULER_TICK_SECONDS') * 1000;
  }

  get reconcileIntervalMs(): number {
    return this.get('RECONCILE_INTERVAL_SECONDS') * 1000;
  }

  get shutdownGraceMs(): number {
    return this.get('SHUTDOWN_GRACE_SECONDS') * 1000;
  }

  get outputLimitBytes(): number {
    return this.get('OUTPUT_LIMIT_BYTES');
  }

  get historyMaxPerTask(): number {
    return this.get('HISTORY_MAX_PER_TASK');
  }

  get historyMaxAgeMs(): number {
    return this.get('HISTORY_MAX_AGE_DAYS') * 86_400_000;
  }

  get customHostCommandsUser(): string | undefined {
    return this.get('CUSTOM_HOST_COMMANDS_USER');
  }

  /** The default engine, as the docker CLI reads DOCKER_HOST; unset = the local socket. */
  get dockerHost(): string | undefined {
    return this.get('DOCKER_HOST');
  }

  get dockerApiTimeoutMs(): number {
    return this.get('DOCKER_API_TIMEOUT_SECONDS') * 1000;
  }

  get alertWebhookUrl(): string | undefined {
    return this.get('ALERT_WEBHOOK_URL');
  }

  get alertOnRunFailure(): boolean {
    return this.get('ALERT_ON_RUN_FAILURE');
  }

  get alertTimeoutMs(): number {
    return this.get('ALERT_TIMEOUT_MS');
  }

  /** Empty = any host. */
  get healthCheckAllowedHosts(): string[] {
    return this.get('HEALTHCHECK_ALLOWED_HOSTS');
  }

  get healthCheckPortTimeoutMs(): number {
    return this.get('HEALTHCHECK_PORT_TIMEOUT_MS');
  }

  get containerUpdateSettleMs(): number {
    return this.get('CONTAINER_UPDATE_SETTLE_SECONDS') * 1000;
  }

  /** The S3 destination; null when no bucket is configured. */
  get s3(): S3Settings | null {
    const bucket = this.get('S3_BUCKET');
    if (!bucket) return null;
    return {
      endpoint: this.get('S3_ENDPOINT'),
      region: this.get('S3_REGION'),
      bucket,
      prefix: this.get('S3_PREFIX'),
      forcePathStyle: this.get('S3_FORCE_PATH_STYLE'),
      accessKeyId: this.get('S3_ACCESS_KEY_ID'),
      secretAccessKey: this.get('S3_SECRET_ACCESS_KEY'),
    };
  }

  get backupLocalDir(): string {
    return resolve(this.get('BACKUP_LOCAL_DIR') ?? join(this.dataDir, 'backups'));
  }

  /** How `encrypt: true` backups are encrypted: recipients win over a passphrase; null = not configured. */
  get backupEncryption(): { recipients: string[] } | { passphrase: string } | null {
    const recipients = this.get('BACKUP_AGE_RECIPIENTS');
    if (recipients.length > 0) return { recipients };
    const passphrase = this.get('BACKUP_AGE_PASSPHRASE');
    return passphrase ? { passphrase } : null;
  }

  /** What decrypts backups for a restore. */
  get backupDecryption(): { identityFile?: string; passphrase?: string } {
    return { identityFile: this.get('BACKUP_AGE_IDENTITY_FILE'), passphrase: this.get('BACKUP_AGE_PASSPHRASE') };
  }

  get backupHelperImage(): string {
    return this.get('BACKUP_HELPER_IMAGE');
  }

  /** Values of the configured secrets (long enough to mask without hitting ordinary words). */
  get secretValues(): string[] {
    return SECRET_VARIABLES.map((name) => this.environment.secrets[name]).filter(
      (value): value is string => typeof value === 'string' && value.length >= 6,
    );
  }
}
