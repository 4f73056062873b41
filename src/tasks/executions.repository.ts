import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { chunks, fromJson, rawQuery, toDate } from '../database/raw-rows';
import type { ExecutionStatus } from './execution-status';
import { Execution } from './entities/execution.entity';

export type NewExecution = Pick<
  Execution,
  'id' | 'taskId' | 'trigger' | 'triggeredBy' | 'scheduledFor' | 'executedAt' | 'status' | 'replicaId' | 'leaseExpiresAt'
> &
  Partial<Pick<Execution, 'finishedAt' | 'duration' | 'error'>>;

export interface FinishedExecution {
  status: Exclude<ExecutionStatus, 'running'>;
  /** When the work really started: later than the claim for a run that waited under MAX_CONCURRENT_RUNS. */
  executedAt: Date;
  finishedAt: Date;
  duration: number;
  result: Record<string, unknown> | null;
  error: string | null;
  output: { stdout: string; stderr: string } | null;
}

const CHUNK = 500;

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
   * Inserts each execution unless it would be a second one of the same (task, slot) or a second
   * running one of the task: the unique indexes decide, so replicas racing for a slot cannot both
   * win. Returns the ids that were inserted.
   */
  async insertIfFree(executions: NewExecution[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    for (const chunk of chunks(executions, CHUNK)) {
      await this.repository
        .createQueryBuilder()
        .insert()
        .into(Execution)
        .values(chunk.map((execution) => ({ ...execution, cancelRequested: false })))
        .orIgnore()
        .execute();
      // The drivers report ignored rows differently; the fresh random ids tell portably.
      const rows = await this.repository.find({ select: { id: true }, where: { id: In(chunk.map((execution) => execution.id)) } });
      for (const row of rows) inserted.add(row.id);
    }
    return inserted;
  }

  /** Which of these tasks already have an execution for the slot (another replica's). */
  async findTasksWithSlot(taskIds: string[], scheduledFor: Date): Promise<Set<string>> {
    const found = new Set<string>();
    for (const chunk of chunks(taskIds, CHUNK)) {
      const rows = await this.repository.find({ select: { taskId: true }, where: { taskId: In(chunk), scheduledFor } });
      for (const row of rows) found.add(row.taskId);
    }
    return found;
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
