import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXECUTION_STATUSES, EXECUTION_TRIGGERS, type ExecutionStatus, type ExecutionTrigger } from '../execution-status';
import type { Execution } from '../entities/execution.entity';

export class ExecutionDto {
  @ApiProperty({ example: 'exec-5f2b8c1d9e3a4f60' })
  id: string;

  @ApiProperty({ example: 'task-123' })
  taskId: string;

  @ApiProperty({ enum: EXECUTION_TRIGGERS })
  trigger: ExecutionTrigger;

  @ApiProperty({ nullable: true, type: String, description: "The API key's id, for manual runs" })
  triggeredBy: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'The slot, for scheduled runs' })
  scheduledFor: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-01-19T07:00:00.000Z' })
  executedAt: string;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  finishedAt: string | null;

  @ApiProperty({ enum: EXECUTION_STATUSES, example: 'success' })
  status: ExecutionStatus;

  @ApiProperty({ nullable: true, type: Number, description: 'Milliseconds', example: 120000 })
  duration: number | null;

  @ApiPropertyOptional({ nullable: true, type: Object, example: { backupId: 'backup-789', size: 52428800 } })
  result: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: String })
  error: string | null;
}

export function mapExecution(execution: Execution): ExecutionDto {
  return {
    id: execution.id,
    taskId: execution.taskId,
    trigger: execution.trigger,
    triggeredBy: execution.triggeredBy,
    scheduledFor: execution.scheduledFor?.toISOString() ?? null,
    executedAt: execution.executedAt.toISOString(),
    finishedAt: execution.finishedAt?.toISOString() ?? null,
    status: execution.status,
    duration: execution.duration,
    result: execution.result,
    error: execution.error,
  };
}
