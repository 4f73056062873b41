import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { TIMESTAMP_COLUMN_TYPE } from '../../database/dialect';
import { Project } from '../../projects/entities/project.entity';
import type { ExecutionStatus } from '../execution-status';
import type { TaskConfig } from '../task-config';
import type { TaskType } from '../task-type';

@Entity('tasks')
export class Task {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 32 })
  type: TaskType;

  @Column({ type: 'boolean' })
  enabled: boolean;

  @Index('IDX_tasks_projectId')
  @Column({ type: 'varchar', length: 63 })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'projectId' })
  project?: Project;

  @Column({ type: 'varchar', length: 1000 })
  cronExpression: string;

  @Column({ type: 'varchar', length: 64 })
  timezone: string;

  /** The settings of this task's type, defaults filled in. */
  @Column({ type: 'simple-json' })
  config: TaskConfig;

  /** Null means the configured default for the type. */
  @Column({ type: 'integer', nullable: true })
  timeoutSeconds: number | null;

  @Column({ type: TIMESTAMP_COLUMN_TYPE, nullable: true })
  nextRun: Date | null;

  /** Slots before this instant are never run: creating, editing or enabling does not backfill. */
  @Column({ type: TIMESTAMP_COLUMN_TYPE })
  scheduledFrom: Date;

  /** Bumped by every change made through the API, so replicas can tell what to re-arm. */
  @Column({ type: 'integer', default: 1 })
  revision: number;

  @Column({ type: TIMESTAMP_COLUMN_TYPE, nullable: true })
  lastRun: Date | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  lastStatus: ExecutionStatus | null;

  @CreateDateColumn({ type: TIMESTAMP_COLUMN_TYPE })
  createdAt: Date;

  @UpdateDateColumn({ type: TIMESTAMP_COLUMN_TYPE })
  updatedAt: Date;
}
