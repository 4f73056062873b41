import { Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfigService } from '../config/app-config.service';
import type { TaskChange } from '../tasks/task-changes';
import { TASK_CHANGES_CHANNEL } from '../tasks/tasks.repository';

const RECONNECT_MS = 2000;

/**
 * LISTENs for task changes made on other replicas (PostgreSQL only). A dropped connection is
 * reopened; what changed meanwhile is picked up by the scheduler's periodic reconcile.
 */
@Injectable()
export class TaskChangesListener {
  private readonly logger = new Logger(TaskChangesListener.name);
  private client: Client | undefined;
  private stopped = true;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly config: AppConfigService) {}

  async start(onChange: (change: TaskChange) => void): Promise<void> {
    if (!this.config.databaseUrl) return;
    this.stopped = false;
    await this.connect(onChange);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(onChange: (change: TaskChange) => void): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl });
    client.on('notification', (message) => {
      if (message.channel !== TASK_CHANGES_CHANNEL || !message.payload) return;
      try {
        onChange(JSON.parse(message.payload) as TaskChange);
      } catch {
        this.logger.warn('Ignored a malformed task-change notification');
      }
    });
    client.on('error', (error) => {
      this.logger.warn(`Task-change listener lost its connection: ${error.message}`);
      this.reconnect(client, onChange);
    });
    client.on('end', () => this.reconnect(client, onChange));
    try {
      await client.connect();
      await client.query(`LISTEN ${TASK_CHANGES_CHANNEL}`);
      this.client = client;
    } catch (error) {
      this.logger.warn(`Task-change listener could not connect: ${String(error)}`);
      this.reconnect(client, onChange);
    }
  }

  private reconnect(client: Client, onChange: (change: TaskChange) => void): void {
    if (this.stopped || this.reconnectTimer || (this.client && this.client !== client)) return;
    this.client = undefined;
    client.removeAllListeners();
    void client.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) void this.connect(onChange);
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }
}
