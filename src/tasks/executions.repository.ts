import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { fromJson, rawQuery, toDate } from '../database/raw-rows';
import type { ExecutionStatus } from './execution-status';
import { Execution } from './entities/execution.entity';

export type NewExecution = Pick<
  Execution,
  'id' | 'taskId' | 'trigger' | 'triggeredBy' | 'scheduledFor' | 'executedAt' | 'status' | 'replicaId' | 'leaseExpiresAt'
> &
  Partial<Pick<Execution, 'finishedAt' | 'duration' | 'error'>>;

export interface FinishedExecution {
  status: Exclude<ExecutionStatus, 'running'>;
  finishedAt: Date;
  duration: number;
  result: Record<string, unknown> | null;
  error: string | null;
  output: { stdout: string; stderr: string } | null;
}

type ExecutionRow = Pick<Execution, 'id' | 'taskId' | 'trigger' | 'triggeredBy' | 'status' | 'duration' | 'error'> & {
  scheduledFor: Date | string | null;
  executedAt: Date | string;
  finishedAt: Date | string | null;
  result: string | null;
};

@Injectable()
export class ExecutionsRepository {
  constructor(@InjectRepository(Execution) private readonly repository: Repository<Execution>) {}

  /** Read with every GET of a task: raw SQL (see `database/raw-rows.ts`); without the output. */
  async findRecent(taskId: string, limit: number): Promise<Execution[]> {
    const rows = await rawQuery<ExecutionRow>(
      this.repository.manager.connection,
      `SELECT "id", "taskId", "trigger", "triggeredBy", "scheduledFor", "executedAt", "finishedAt", "status", "duration", "result", "error"
       FROM "executions" WHERE "taskId" = :taskId ORDER BY "executedAt" DESC, "id" DESC LIMIT :limit`,
      { taskId, limit },
    );
    return rows.map((row) =>
      Object.assign(new Execution(), {
        ...row,
        scheduledFor: toDate(row.scheduledFor),
        executedAt: toDate(row.executedAt),
        finishedAt: toDate(row.finishedAt),
        result: fromJson<Execution['result']>(row.result),
      }),
    );
  }

  async findPage(
    taskId: string,
    status: ExecutionStatus | undefined,
    limit: number,
    offset: number,
  ): Promise<{ executions: Execution[]; total: number }> {
    const [executions, total] = await this.repository.findAndCount({
      where: { taskId, ...(status && { status }) },
      order: { executedAt: 'DESC', id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { executions, total };
  }

  findOne(taskId: string, id: string): Promise<Execution | null> {
    return this.repository.findOneBy({ taskId, id });
  }

  findById(id: string): Promise<Execution | null> {
    return this.repository.findOneBy({ id });
  }

  /**
   * Inserts unless it would be a second execution of the same (task, slot) or a second running
   * one of the task: the unique indexes decide, so replicas racing for a slot cannot both win.
   */
  async insertIfFree(execution: NewExecution): Promise<boolean> {
    const insert = this.repository
      .createQueryBuilder()
      .insert()
      .into(Execution)
      .values({ ...execution, cancelRequested: false })
      .orIgnore();
    if (this.repository.manager.connection.options.type === 'postgres') {
      // ON CONFLICT DO NOTHING RETURNING: one round trip, and no row back when another won.
      const result = await insert.returning('id').execute();
      return (result.raw as unknown[]).length > 0;
    }
    await insert.execute();
    // SQLite's INSERT OR IGNORE reports nothing portable; the fresh random id tells.
    return this.repository.existsBy({ id: execution.id });
  }

  existsForSlot(taskId: string, scheduledFor: Date): Promise<boolean> {
    return this.repository.existsBy({ taskId, scheduledFor });
  }

  findRunning(taskId: string): Promise<Execution | null> {
    return this.repository.findOneBy({ taskId, status: 'running' });
  }

  async markStarted(id: string, executedAt: Date): Promise<void> {
    await this.repository.update({ id, status: 'running' }, { executedAt });
  }

  /** Only a running execution can finish: whoever closes it first (owner or reaper) wins. */
  async finish(id: string, finished: FinishedExecution): Promise<boolean> {
    const result = await this.repository.update(
      { id, status: 'running' },
      // simple-json columns confuse TypeORM's deep-partial type; the values are plain JSON.
      { ...finished, replicaId: null, leaseExpiresAt: null } as QueryDeepPartialEntity<Execution>,
    );
    return (result.affected ?? 0) > 0;
  }

  async renewLeases(ids: string[], leaseExpiresAt: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.repository.update({ id: In(ids), status: 'running' }, { leaseExpiresAt });
  }

  findExpiredLeases(now: Date): Promise<Execution[]> {
    return this.repository.find({ where: { status: 'running', leaseExpiresAt: LessThan(now) }, take: 500 });
  }

  async requestCancel(id: string): Promise<boolean> {
    const result = await this.repository.update({ id, status: 'running' }, { cancelRequested: true });
    return (result.affected ?? 0) > 0;
  }

  async findCancelRequested(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.repository.find({ select: { id: true }, where: { id: In(ids), cancelRequested: true } });
    return rows.map((row) => row.id);
  }

  async recordTouchedContainers(id: string, containers: string[]): Promise<void> {
    await this.repository.update({ id }, { touchedContainers: containers });
  }

  /** Keeps the newest `keep` executions of the task, in one statement. */
  async pruneTask(taskId: string, keep: number): Promise<void> {
    const beyond = this.repository
      .createQueryBuilder('stale')
      .select('stale.id')
      .where('stale.taskId = :taskId', { taskId })
      .orderBy('stale.executedAt', 'DESC')
      .addOrderBy('stale.id', 'DESC')
      .offset(keep);
    await this.repository
      .createQueryBuilder()
      .delete()
      .from(Execution)
      .where(`id IN (${beyond.getQuery()})`)
      .setParameters(beyond.getParameters())
      .execute();
  }

  async pruneOlderThan(cutoff: Date): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .delete()
      .from(Execution)
      .where('executedAt < :cutoff AND status <> :running', { cutoff, running: 'running' })
      .execute();
  }
}
