import type { HealthCheckConfig } from '../tasks/task-config';
import type { ExecutionStatus } from '../tasks/execution-status';
import type { Alert, AlertTask } from './alerts.service';

export interface FinishedRun {
  id: string;
  status: ExecutionStatus;
  scheduledFor: Date | null;
  executedAt: Date;
  finishedAt: Date;
  error: string | null;
  result: Record<string, unknown> | null;
}

const FAILED: ReadonlySet<ExecutionStatus> = new Set(['failed', 'timeout']);

/**
 * The alert a finished run calls for, if any. Health checks with `alertOnFailure` alert on every
 * failure and on the first success after one; with ALERT_ON_RUN_FAILURE every failed or timed-out
 * run of any task alerts too (a health check's own alert counts as that one).
 */
export function alertForRun(
  task: AlertTask & { config: unknown },
  run: FinishedRun,
  previousStatus: ExecutionStatus | null,
  runFailuresEnabled: boolean,
): Alert | null {
  const execution = {
    id: run.id,
    status: run.status,
    scheduledFor: run.scheduledFor,
    executedAt: run.executedAt,
    finishedAt: run.finishedAt,
  };
  const taskRef: AlertTask = { id: task.id, name: task.name, type: task.type, projectId: task.projectId };
  if (task.type === 'health-check' && (task.config as HealthCheckConfig).alertOnFailure) {
    const problems = (run.result as { problems?: unknown } | null)?.problems;
    if (FAILED.has(run.status)) {
      return {
        event: 'health-check.failed',
        task: taskRef,
        message: `Health check of ${task.projectId} failed: ${run.error ?? run.status}`,
        execution,
        ...(Array.isArray(problems) && { details: { problems } }),
      };
    }
    if (run.status === 'success' && previousStatus !== null && FAILED.has(previousStatus)) {
      return { event: 'health-check.recovered', task: taskRef, message: `Health check of ${task.projectId} passes again`, execution };
    }
    return null;
  }
  if (runFailuresEnabled && FAILED.has(run.status)) {
    return {
      event: 'run.failed',
      task: taskRef,
      message: `${task.type} task "${task.name}" ${run.status === 'timeout' ? 'timed out' : 'failed'}: ${run.error ?? run.status}`,
      execution,
    };
  }
  return null;
}
