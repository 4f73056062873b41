import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TIMESTAMP_COLUMN_TYPE } from '../../database/dialect';
import type { ExecutionStatus, ExecutionTrigger } from '../execution-status';
import { Task } from './task.entity';

/** One run of a task: the audit trail. */
@Entity('executions')
@Index('IDX_executions_task_executedAt', ['taskId', 'executedAt'])
// The database decides which replica runs a slot: one execution per (task, slot)…
@Index('UQ_executions_task_slot', ['taskId', 'scheduledFor'], { unique: true })
// …and at most one running execution per task, whoever started it.
@Index('UQ_executions_task_running', ['taskId'], { unique: true, where: `"status" = 'running'` })
@Index('IDX_executions_status_lease', ['status', 'leaseExpiresAt'])
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

  /** Captured stdout/stderr of commands, bounded and with known secrets masked. */
  @Column({ type: 'simple-json', nullable: true })
  output: { stdout: string; stderr: string } | null;

  /** The replica running it, while it runs. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  replicaId: string | null;

  /** A running execution whose lease has passed belongs to a replica that died. */
  @Column({ type: TIMESTAMP_COLUMN_TYPE, nullable: true })
  leaseExpiresAt: Date | null;

  @Column({ type: 'boolean', default: false })
  cancelRequested: boolean;

  /** Containers the run stopped or replaced, so an interrupted run can be repaired. */
  @Column({ type: 'simple-json', nullable: true })
  touchedContainers: string[] | null;
}
