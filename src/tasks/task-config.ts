import type { TaskType } from './task-type';

export interface HealthCheckEndpoint {
  url: string;
  expectStatus: number;
  timeoutMs: number;
}

export interface HealthCheckConfig {
  checkContainers: boolean;
  checkConnectivity: boolean;
  alertOnFailure: boolean;
  endpoints: HealthCheckEndpoint[];
}

export const BACKUP_TYPES = ['full', 'volumes', 'config'] as const;
export const BACKUP_DESTINATIONS = ['s3', 'local'] as const;

export interface BackupHook {
  container: string;
  command: string;
}

export interface BackupConfig {
  type: (typeof BACKUP_TYPES)[number];
  destination: (typeof BACKUP_DESTINATIONS)[number];
  encrypt: boolean;
  stopContainers: boolean;
  retention: { keepLast?: number; maxAgeDays?: number } | null;
  hooks: { before: BackupHook[]; after: BackupHook[] };
}

export interface ContainerUpdateConfig {
  pullImages: boolean;
  restartAfterUpdate: boolean;
}

export interface CustomConfig {
  command: string;
  /** Container name or Compose service of the project; absent = a host command. */
  container: string | null;
}

export interface TaskConfigByType {
  'health-check': HealthCheckConfig;
  backup: BackupConfig;
  'container-update': ContainerUpdateConfig;
  custom: CustomConfig;
}

export type TaskConfig = TaskConfigByType[TaskType];

/** The request/response property that carries each type's config. */
export const CONFIG_PROPERTY = {
  'health-check': 'healthCheckConfig',
  backup: 'backupConfig',
  'container-update': 'containerUpdateConfig',
  custom: 'customConfig',
} as const satisfies Record<TaskType, string>;

/** A custom task without a container runs on the service's host. */
export function isHostCommand(type: TaskType, config: TaskConfig): boolean {
  return type === 'custom' && (config as CustomConfig).container === null;
}

export const DEFAULT_ENDPOINT_EXPECT_STATUS = 200;
export const DEFAULT_ENDPOINT_TIMEOUT_MS = 5000;
