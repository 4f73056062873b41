import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { chunks, fromJson, rawQuery, toBoolean, toDate } from '../database/raw-rows';
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

const SELECT_TASKS = `SELECT t."id", t."name", t."type", t."enabled", t."projectId", t."cronExpression", t."timezone", t."config",
  t."timeoutSeconds", t."nextRun", t."lastRun", t."lastStatus", t."scheduledFrom", t."revision", t."createdAt", t."updatedAt",
  p."name" AS "projectName" FROM "tasks" t INNER JOIN "projects" p ON p."id" = t."projectId"`;

type RawDate = Date | string | null;

/** Rows per statement when many tasks are read or written at once (well under bind-parameter limits). */
const CHUNK = 500;

interface TaskRow {
  id: string;
  name: string;
  type: TaskType;
  enabled: boolean | number;
  projectId: string;
  cronExpression: string;
  timezone: string;
  config: string;
  timeoutSeconds: number | null;
  nextRun: RawDate;
  lastRun: RawDate;
  lastStatus: Task['lastStatus'];
  scheduledFrom: RawDate;
  revision: number;
  createdAt: RawDate;
  updatedAt: RawDate;
  projectName: string;
}

function taskFromRow(row: TaskRow): TaskWithProject {
  return Object.assign(new Task(), {
    id: row.id,
    name: row.name,
    type: row.type,
    enabled: toBoolean(row.enabled),
    projectId: row.projectId,
    cronExpression: row.cronExpression,
    timezone: row.timezone,
    config: fromJson<Task['config']>(row.config),
    timeoutSeconds: row.timeoutSeconds,
    nextRun: toDate(row.nextRun),
    lastRun: toDate(row.lastRun),
    lastStatus: row.lastStatus,
    scheduledFrom: toDate(row.scheduledFrom),
    revision: row.revision,
    createdAt: toDate(row.createdAt),
    updatedAt: toDate(row.updatedAt),
    project: { name: row.projectName },
  }) as TaskWithProject;
}

@Injectable()
export class TasksRepository {
  constructor(@InjectRepository(Task) private readonly repository: Repository<Task>) {}

  private get dataSource() {
    return this.repository.manager.connection;
  }

  /** The task read paths are the API's hottest: raw SQL, mapped by hand (see `database/raw-rows.ts`). */
  async findWithProject(id: string): Promise<TaskWithProject | null> {
    const [row] = await rawQuery<TaskRow>(this.dataSource, `${SELECT_TASKS} WHERE t."id" = :id`, { id });
    return row ? taskFromRow(row) : null;
  }

  async findPage(filter: TaskFilter, limit: number, offset: number): Promise<{ tasks: TaskWithProject[]; total: number }> {
    if (filter.projectIds !== null && filter.projectIds.length === 0) return { tasks: [], total: 0 };
    const conditions: string[] = [];
    if (filter.projectIds !== null) conditions.push('t."projectId" IN (:...projectIds)');
    if (filter.projectId !== undefined) conditions.push('t."projectId" = :projectId');
    if (filter.type !== undefined) conditions.push('t."type" = :type');
    if (filter.enabled !== undefined) conditions.push('t."enabled" = :enabled');
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const parameters = { ...filter, limit, offset };
    // One round trip: the window function counts every match before LIMIT applies.
    const rows = await rawQuery<TaskRow & { total: number | string }>(
      this.dataSource,
      `${SELECT_TASKS.replace('SELECT ', 'SELECT COUNT(*) OVER () AS "total", ')} ${where} ORDER BY t."createdAt", t."id" LIMIT :limit OFFSET :offset`,
      parameters,
    );
    if (rows.length > 0) return { tasks: rows.map(taskFromRow), total: Number(rows[0].total) };
    if (offset === 0) return { tasks: [], total: 0 };
    const [count] = await rawQuery<{ total: number | string }>(
      this.dataSource,
      `SELECT COUNT(*) AS "total" FROM "tasks" t ${where}`,
      parameters,
    );
    return { tasks: [], total: Number(count.total) };
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

  /** The tasks due at one instant, read together (10,000 may share a minute). */
  async findByIds(ids: string[]): Promise<Task[]> {
    const tasks: Task[] = [];
    for (const chunk of chunks(ids, CHUNK)) {
      const rows = await rawQuery<TaskRow>(this.dataSource, `${SELECT_TASKS} WHERE t."id" IN (:...ids)`, { ids: chunk });
      tasks.push(...rows.map(taskFromRow));
    }
    return tasks;
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

  /**
   * Run bookkeeping is not an edit: `updatedAt` keeps the time of the last change through the
   * API. Tasks that share their next slot are updated by one statement.
   */
  async recordNextRuns(nextRuns: Array<{ id: string; nextRun: Date | null }>): Promise<void> {
    const bySlot = new Map<number | null, { nextRun: Date | null; ids: string[] }>();
    for (const { id, nextRun } of nextRuns) {
      const key = nextRun?.getTime() ?? null;
      const group = bySlot.get(key) ?? { nextRun, ids: [] };
      group.ids.push(id);
      bySlot.set(key, group);
    }
    for (const { nextRun, ids } of bySlot.values()) {
      for (const chunk of chunks(ids, CHUNK)) {
        await this.repository
          .createQueryBuilder()
          .update(Task)
          .set({ nextRun, updatedAt: () => '"updatedAt"' })
          .where('id IN (:...ids)', { ids: chunk })
          .execute();
      }
    }
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
