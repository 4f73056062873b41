import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { Backup } from '../backups/entities/backup.entity';
import { ApiKey } from '../permissions/entities/api-key.entity';
import { Project } from '../projects/entities/project.entity';
import { ProjectLock } from '../scheduler/entities/project-lock.entity';
import { SchedulerReplica } from '../scheduler/entities/scheduler-replica.entity';
import { Execution } from '../tasks/entities/execution.entity';
import { Task } from '../tasks/entities/task.entity';
import { dialectOf } from './dialect';
import { postgresMigrations } from './migrations/postgres';
import { sqliteMigrations } from './migrations/sqlite';

export const ENTITIES = [Project, Task, Execution, ApiKey, SchedulerReplica, ProjectLock, Backup];

export interface DatabaseSettings {
  databaseUrl?: string;
  dataDir: string;
}

/** The one DataSource definition, shared by the app and the TypeORM CLI (`ormconfig.ts`). */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  if (dialectOf(settings.databaseUrl) === 'postgres') {
    return {
      type: 'postgres',
      url: settings.databaseUrl,
      entities: ENTITIES,
      migrations: postgresMigrations,
      migrationsTableName: 'migrations',
      synchronize: false,
      extra: { max: 10, connectionTimeoutMillis: 5000 },
    };
  }
  const dataDir = resolve(settings.dataDir);
  mkdirSync(dataDir, { recursive: true });
  return {
    type: 'better-sqlite3',
    database: join(dataDir, 'tasks.sqlite'),
    entities: ENTITIES,
    migrations: sqliteMigrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    enableWAL: true,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma('busy_timeout = 5000');
    },
  };
}
