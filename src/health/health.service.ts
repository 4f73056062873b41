import { Injectable } from '@nestjs/common';
import { HealthRepository } from './health.repository';

export interface ComponentCheck {
  status: 'up' | 'down';
  message?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ComponentCheck>;
}

const CHECK_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

@Injectable()
export class HealthService {
  constructor(private readonly health: HealthRepository) {}

  async readiness(): Promise<Readiness> {
    const database = await withTimeout(this.health.ping(), CHECK_TIMEOUT_MS).then(
      (): ComponentCheck => ({ status: 'up' }),
      (error: unknown): ComponentCheck => ({
        status: 'down',
        message: `database unreachable: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
    const checks = { database };
    return { ready: Object.values(checks).every((check) => check.status === 'up'), checks };
  }
}
