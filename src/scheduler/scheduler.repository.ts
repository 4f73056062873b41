import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import { ProjectLock } from './entities/project-lock.entity';
import { SchedulerReplica } from './entities/scheduler-replica.entity';

@Injectable()
export class SchedulerRepository {
  constructor(
    @InjectRepository(SchedulerReplica) private readonly replicas: Repository<SchedulerReplica>,
    @InjectRepository(ProjectLock) private readonly locks: Repository<ProjectLock>,
  ) {}

  async saveReplica(replica: SchedulerReplica): Promise<void> {
    await this.replicas.save(replica);
  }

  async heartbeat(id: string, at: Date): Promise<void> {
    await this.replicas.update({ id }, { heartbeatAt: at });
  }

  async markStopped(id: string, at: Date): Promise<void> {
    await this.replicas.update({ id }, { stoppedAt: at });
  }

  /** Replicas seen recently, for the metrics of every replica's last tick. */
  findReplicasSince(since: Date): Promise<SchedulerReplica[]> {
    return this.replicas.createQueryBuilder('replica').where('replica.heartbeatAt >= :since', { since }).getMany();
  }

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

  async renewLocks(executionIds: string[], expiresAt: Date): Promise<void> {
    if (executionIds.length === 0) return;
    await this.locks.update({ executionId: In(executionIds) }, { expiresAt });
  }

  async unlock(projectId: string, executionId: string): Promise<void> {
    await this.locks.delete({ projectId, executionId });
  }
}
