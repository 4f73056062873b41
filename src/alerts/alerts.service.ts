import { Injectable, Logger } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import type { TaskType } from '../tasks/task-type';

export type AlertEvent =
  /** A health check found a problem (or could not run). */
  | 'health-check.failed'
  /** The first successful health check after a failed one. */
  | 'health-check.recovered'
  /** Any task's run failed or timed out (ALERT_ON_RUN_FAILURE). */
  | 'run.failed'
  /** A slot of any task did not run: the previous run was still going, or no replica was up (ALERT_ON_RUN_FAILURE). */
  | 'slot.missed';

export interface AlertTask {
  id: string;
  name: string;
  type: TaskType;
  projectId: string;
}

export interface Alert {
  event: AlertEvent;
  task: AlertTask;
  /** One line for people. */
  message: string;
  execution?: { id: string; status: string; scheduledFor: Date | null; executedAt: Date | null; finishedAt: Date | null };
  details?: Record<string, unknown>;
}

/**
 * Posts alerts as JSON to ALERT_WEBHOOK_URL. Never throws: an unreachable webhook is logged
 * (without its URL, which may carry a token) and must not change what was recorded.
 */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);

  constructor(private readonly config: AppConfigService) {}

  get enabled(): boolean {
    return this.config.alertWebhookUrl !== undefined;
  }

  /** Whether failed runs and missed slots of every task are sent, not only health checks. */
  get runFailuresEnabled(): boolean {
    return this.enabled && this.config.alertOnRunFailure;
  }

  async send(alert: Alert): Promise<boolean> {
    const url = this.config.alertWebhookUrl;
    if (url === undefined) return false;
    const body = JSON.stringify({ ...alert, sentAt: new Date().toISOString(), source: 'docker-task-scheduler' });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'docker-task-scheduler' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.config.alertTimeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) {
        this.logger.warn(`Alert ${alert.event} for task ${alert.task.id} not accepted by the webhook: HTTP ${response.status}`);
        return false;
      }
      return true;
    } catch (error) {
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      this.logger.warn(`Alert ${alert.event} for task ${alert.task.id} could not be sent: ${reason.replaceAll(url, '<ALERT_WEBHOOK_URL>')}`);
      return false;
    }
  }
}
