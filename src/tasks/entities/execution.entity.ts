import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TIMESTAMP_COLUMN_TYPE } from '../../database/dialect';
import type { ExecutionStatus, ExecutionTrigger } from '../execution-status';
import { Task } from './task.entity';

/** One run of a task: the audit trail. */
@Entity('executions')
@Index('IDX_executions_task_executedAt', ['taskId', 'executedAt'])
export class Execution {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 40 })
  taskId: string;

  @ManyToOne(() => Task, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'taskId' })
  task?: Task;

  @Column({ type: 'varchar', length: 16 })
  trigger: ExecutionTrigger;

  /** The API key's id for manual runs. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  triggeredBy: string | null;

  @Column({ type: TIMESTAMP_COLUMN_TYPE, nullable: true })
  scheduledFor: Date | null;

  @Column({ type: TIMESTAMP_COLUMN_TYPE })
  executedAt: Date;

  @Column({ type: TIMESTAMP_COLUMN_TYPE, nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'varchar', length: 16 })
  status: ExecutionStatus;

  /** Milliseconds. */
  @Column({ type: 'integer', nullable: true })
  duration: number | null;

  @Column({ type: 'simple-json', nullable: true })
  result: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
