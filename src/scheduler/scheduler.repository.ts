import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SchedulerReplica } from './entities/scheduler-replica.entity';

@Injectable()
export class SchedulerRepository {
  constructor(@InjectRepository(SchedulerReplica) private readonly replicas: Repository<SchedulerReplica>) {}

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
}
