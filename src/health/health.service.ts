import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-errors';
import { AppConfigService } from '../config/app-config.service';
import { DockerEngines } from '../docker/docker-engines';
import { SchedulerService } from '../scheduler/scheduler.service';
import { HealthRepository } from './health.repository';

export interface ComponentCheck {
  status: 'up' | 'down';
  message?: string;
}

export interface Readiness {
  ready: boolean;
  /** Up, but some work cannot be done (the container engine does not answer). */
  degraded: boolean;
  checks: Record<string, ComponentCheck>;
}

const CHECK_TIMEOUT_MS = 3000;

function engineMessage(error: unknown): string {
  if (error instanceof DomainError && typeof error.details === 'string') return error.details;
  return `container engine check failed: ${error instanceof Error ? error.message : String(error)}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthRepository,
    private readonly scheduler: SchedulerService,
    private readonly config: AppConfigService,
    private readonly engines: DockerEngines,
  ) {}

  async readiness(): Promise<Readiness> {
    const database = await withTimeout(this.health.ping(), CHECK_TIMEOUT_MS).then(
      (): ComponentCheck => ({ status: 'up' }),
      (error: unknown): ComponentCheck => ({
        status: 'down',
        message: `database unreachable: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
    const checks: Record<string, ComponentCheck> = { database };
    if (this.scheduler.enabled) checks.scheduler = this.schedulerCheck();
    const ready = Object.values(checks).every((check) => check.status === 'up');
    // The API and the history work without an engine: an unreachable one is reported, not fatal.
    checks.engine = await this.engines.ping(this.engines.defaultEngine).then(
      (): ComponentCheck => ({ status: 'up' }),
      (error: unknown): ComponentCheck => ({ status: 'down', message: engineMessage(error) }),
    );
    return { ready, degraded: checks.engine.status === 'down', checks };
  }

  /** A scheduler that silently stopped ticking must show: nothing else would until runs are missed. */
  private schedulerCheck(): ComponentCheck {
    const heartbeat = this.scheduler.heartbeat;
    const staleAfterMs = Math.max(3 * this.config.schedulerTickMs, 15_000);
    if (heartbeat && Date.now() - heartbeat.getTime() <= staleAfterMs) return { status: 'up' };
    return {
      status: 'down',
      message: heartbeat
        ? `scheduler heartbeat stale: last tick ${heartbeat.toISOString()}`
        : 'scheduler heartbeat stale: no tick yet',
    };
  }
}
