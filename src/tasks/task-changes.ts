import { Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { AppConfigService } from '../config/app-config.service';
import { TasksRepository } from './tasks.repository';

/** A task changed through the API (created, edited or deleted) on `replicaId`. */
export interface TaskChange {
  taskId: string;
  replicaId: string;
}

/**
 * Announces task changes: to this process at once, and through PostgreSQL NOTIFY to every other
 * replica, so what fires everywhere follows within seconds.
 */
@Injectable()
export class TaskChanges {
  private readonly local = new Subject<TaskChange>();

  constructor(
    private readonly tasks: TasksRepository,
    private readonly config: AppConfigService,
  ) {}

  get changes(): Observable<TaskChange> {
    return this.local.asObservable();
  }

  async publish(taskId: string): Promise<void> {
    const change: TaskChange = { taskId, replicaId: this.config.replicaId };
    this.local.next(change);
    await this.tasks.notifyChanged(JSON.stringify(change));
  }
}
