import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Execution } from './entities/execution.entity';

@Injectable()
export class ExecutionsRepository {
  constructor(@InjectRepository(Execution) private readonly repository: Repository<Execution>) {}

  findRecent(taskId: string, limit: number): Promise<Execution[]> {
    return this.repository.find({ where: { taskId }, order: { executedAt: 'DESC', id: 'DESC' }, take: limit });
  }
}
