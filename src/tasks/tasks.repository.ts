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

  findById(id: string): Promise<TaskWithProject | null> {
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
}
