import { Injectable } from '@nestjs/common';
import { join, resolve } from 'node:path';
import type { TaskType } from '../tasks/task-type';
import { Environment } from './environment';

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
}
