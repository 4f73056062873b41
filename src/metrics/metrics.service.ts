import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

type Collector = () => Promise<void>;

/** The service's Prometheus metrics, in a registry of its own. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly collectors: Collector[] = [];

  readonly runs = new Counter({
    name: 'task_runs_total',
    help: 'Finished task runs by task type and final status (skipped slots included)',
    labelNames: ['type', 'status'] as const,
    registers: [this.registry],
  });

  readonly runDuration = new Histogram({
    name: 'task_run_duration_seconds',
    help: 'Duration of executed task runs',
    labelNames: ['type'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 7200],
    registers: [this.registry],
  });

  readonly lateness = new Histogram({
    name: 'task_fire_lateness_seconds',
    help: 'Start of a scheduled run minus its slot',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly scheduledTasks = new Gauge({
    name: 'tasks_scheduled',
    help: 'Enabled tasks armed on this replica',
    registers: [this.registry],
  });

  readonly runsInProgress = new Gauge({
    name: 'task_runs_in_progress',
    help: 'Runs of this replica, running or waiting for a slot under MAX_CONCURRENT_RUNS',
    registers: [this.registry],
  });

  readonly lastTick = new Gauge({
    name: 'scheduler_last_tick_timestamp_seconds',
    help: 'Last successful scheduler tick of each replica seen in the last day (Unix time)',
    labelNames: ['replica'] as const,
    registers: [this.registry],
  });

  /** Work to do just before a scrape, e.g. reading other replicas' heartbeats. */
  addCollector(collector: Collector): void {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    await Promise.all(this.collectors.map((collect) => collect()));
    return this.registry.metrics();
  }
}
