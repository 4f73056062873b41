import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import { ProjectLock } from './entities/project-lock.entity';

/**
 * One container-changing piece of work per project, across replicas: runs that stop or replace
 * containers, and restores. A holder renews its lock; one whose lease ran out can be taken over.
 */
@Injectable()
export class ProjectLocksRepository {
  constructor(@InjectRepository(ProjectLock) private readonly locks: Repository<ProjectLock>) {}

  /** Takes the project's lock if it is free or its holder's lease has run out. */
  async tryLock(lock: ProjectLock, now: Date): Promise<boolean> {
    await this.locks.createQueryBuilder().insert().into(ProjectLock).values(lock).orIgnore().execute();
    const taken = await this.locks.update(
      { projectId: lock.projectId, expiresAt: LessThan(now) },
      { executionId: lock.executionId, replicaId: lock.replicaId, expiresAt: lock.expiresAt },
    );
    if ((taken.affected ?? 0) > 0) return true;
    return this.locks.existsBy({ projectId: lock.projectId, executionId: lock.executionId });
  }

  async renewLocks(holderIds: string[], expiresAt: Date): Promise<void> {
    if (holderIds.length === 0) return;
    await this.locks.update({ executionId: In(holderIds) }, { expiresAt });
  }

  async unlock(projectId: string, holderId: string): Promise<void> {
    await this.locks.delete({ projectId, executionId: holderId });
  }
}
