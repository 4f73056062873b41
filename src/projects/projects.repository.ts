import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { Task } from '../tasks/entities/task.entity';
import { Project } from './entities/project.entity';

@Injectable()
export class ProjectsRepository {
  constructor(@InjectRepository(Project) private readonly repository: Repository<Project>) {}

  findById(id: string): Promise<Project | null> {
    return this.repository.findOneBy({ id });
  }

  exists(id: string): Promise<boolean> {
    return this.repository.existsBy({ id });
  }

  /** `ids` null: every project. */
  findAll(ids: readonly string[] | null): Promise<Project[]> {
    return this.repository.find({
      where: ids === null ? {} : { id: In([...ids]) },
      order: { id: 'ASC' },
    });
  }

  insert(project: Project): Promise<Project> {
    return this.repository.save(project);
  }

  save(project: Project): Promise<Project> {
    return this.repository.save(project);
  }

  /** Deletes the project unless tasks still reference it; returns how many do. */
  deleteUnlessReferenced(id: string): Promise<number> {
    return this.repository.manager.transaction(async (manager) => {
      const taskCount = await manager.countBy(Task, { projectId: id });
      if (taskCount === 0) await manager.delete(Project, { id });
      return taskCount;
    });
  }
}
