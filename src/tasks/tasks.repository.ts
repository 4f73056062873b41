import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { TaskType } from './task-type';
import { Task } from './entities/task.entity';

export interface TaskFilter {
  projectId?: string;
  type?: TaskType;
  enabled?: boolean;
  /** Null: every project. */
  projectIds: readonly string[] | null;
}

/** What the scheduler needs to arm a task: no config, no joins (100,000 of these at start-up). */
export type TaskSchedule = Pick<Task, 'id' | 'cronExpression' | 'timezone' | 'revision' | 'scheduledFrom' | 'nextRun'>;

export const TASK_CHANGES_CHANNEL = 'task_changes';

/** A task with its project's name, as every task response shows it. */
export type TaskWithProject = Task & { project: { name: string } };

@Injectable()
export class TasksRepository {
  constructor(@InjectRepository(Task) private readonly repository: Repository<Task>) {}

  private withProject() {
    return this.repository
      .createQueryBuilder('task')
      .innerJoin('task.project', 'project')
      .addSelect('project.name');
  }

  findWithProject(id: string): Promise<TaskWithProject | null> {
    return this.withProject().where('task.id = :id', { id }).getOne() as Promise<TaskWithProject | null>;
  }

  async findPage(filter: TaskFilter, limit: number, offset: number): Promise<{ tasks: TaskWithProject[]; total: number }> {
    const query = this.withProject();
    if (filter.projectIds !== null) {
      if (filter.projectIds.length === 0) return { tasks: [], total: 0 };
      query.andWhere('task.projectId IN (:...projectIds)', { projectIds: filter.projectIds });
    }
    if (filter.projectId !== undefined) query.andWhere('task.projectId = :projectId', { projectId: filter.projectId });
    if (filter.type !== undefined) query.andWhere('task.type = :type', { type: filter.type });
    if (filter.enabled !== undefined) query.andWhere('task.enabled = :enabled', { enabled: filter.enabled });
    const [tasks, total] = await query
      .orderBy('task.createdAt', 'ASC')
      .addOrderBy('task.id', 'ASC')
      // A many-to-one join adds no rows, so plain LIMIT/OFFSET pages correctly (take/skip would add a subquery).
      .limit(limit)
      .offset(offset)
      .getManyAndCount();
    return { tasks: tasks as TaskWithProject[], total };
  }

  insert(task: Task): Promise<Task> {
    return this.repository.save(task);
  }

  save(task: Task): Promise<Task> {
    return this.repository.save(task);
  }

  /** Its executions go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.repository.delete({ id });
  }

  findById(id: string): Promise<Task | null> {
    return this.repository.findOneBy({ id });
  }

  findEnabledSchedules(): Promise<TaskSchedule[]> {
    return this.repository.find({
      select: { id: true, cronExpression: true, timezone: true, revision: true, scheduledFrom: true, nextRun: true },
      where: { enabled: true },
    });
  }

  findEnabledSchedule(id: string): Promise<TaskSchedule | null> {
    return this.repository.findOne({
      select: { id: true, cronExpression: true, timezone: true, revision: true, scheduledFrom: true, nextRun: true },
      where: { id, enabled: true },
    });
  }

  /** Revisions of every enabled task: what the periodic reconcile compares with what is armed. */
  async findEnabledRevisions(): Promise<Map<string, number>> {
    const rows = await this.repository.find({ select: { id: true, revision: true }, where: { enabled: true } });
    return new Map(rows.map((row) => [row.id, row.revision]));
  }

  /** Run bookkeeping is not an edit: `updatedAt` keeps the time of the last change through the API. */
  async recordNextRun(id: string, nextRun: Date | null): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update(Task)
      .set({ nextRun, updatedAt: () => '"updatedAt"' })
      .where('id = :id', { id })
      .execute();
  }

  async recordLastRun(id: string, lastRun: Date, lastStatus: Task['lastStatus']): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update(Task)
      .set({ lastRun, lastStatus, updatedAt: () => '"updatedAt"' })
      .where('id = :id', { id })
      .execute();
  }

  /** Tells every replica listening on PostgreSQL; a no-op on SQLite, which has one replica. */
  async notifyChanged(payload: string): Promise<void> {
    if (this.repository.manager.connection.options.type !== 'postgres') return;
    await this.repository.query('SELECT pg_notify($1, $2)', [TASK_CHANGES_CHANNEL, payload]);
  }
}
