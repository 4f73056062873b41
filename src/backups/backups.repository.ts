import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Backup } from './entities/backup.entity';

@Injectable()
export class BackupsRepository {
  constructor(@InjectRepository(Backup) private readonly repository: Repository<Backup>) {}

  insert(backup: Backup): Promise<Backup> {
    return this.repository.save(backup);
  }

  /** Newest first. */
  findByProject(projectId: string): Promise<Backup[]> {
    return this.repository.find({ where: { projectId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  findOne(projectId: string, id: string): Promise<Backup | null> {
    return this.repository.findOneBy({ projectId, id });
  }

  /** Newest first: the candidates retention looks at, one task's backups of one project. */
  findByTask(projectId: string, taskId: string): Promise<Backup[]> {
    return this.repository.find({ where: { projectId, taskId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  async delete(id: string): Promise<void> {
    await this.repository.delete({ id });
  }
}
