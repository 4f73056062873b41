import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TIMESTAMP_COLUMN_TYPE } from '../../database/dialect';
import type { BackupConfig } from '../../tasks/task-config';

/** Sizes are bigint columns: PostgreSQL hands them back as strings. */
const bigintAsNumber = {
  to: (value: number) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/**
 * A verified backup in a store. Rows outlive their task (deleting a task keeps its backups); a
 * backup leaves only through retention, which deletes the object first.
 */
@Entity('backups')
@Index('IDX_backups_project_createdAt', ['projectId', 'createdAt'])
export class Backup {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  projectId: string;

  /** No foreign key: the backup stays when its task is deleted. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  taskId: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  executionId: string | null;

  @Column({ type: TIMESTAMP_COLUMN_TYPE })
  createdAt: Date;

  @Column({ type: 'varchar', length: 16 })
  type: BackupConfig['type'];

  @Column({ type: 'varchar', length: 8 })
  destination: BackupConfig['destination'];

  /** Where the object is, in the store's own words (`s3://bucket/key`, a file path). */
  @Column({ type: 'varchar', length: 1000 })
  location: string;

  /** The store's key for the object: relative to BACKUP_LOCAL_DIR, or the S3 key. */
  @Column({ type: 'varchar', length: 1000 })
  storageKey: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  size: number;

  /** Of the stored bytes (after compression and encryption). */
  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  @Column({ type: 'boolean' })
  encrypted: boolean;

  /** Volume names and bind-mount paths in the archive. */
  @Column({ type: 'simple-json' })
  volumes: string[];
}
