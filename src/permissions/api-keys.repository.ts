import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiKey } from './entities/api-key.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly repository: Repository<ApiKey>) {}

  findByHash(keyHash: string): Promise<ApiKey | null> {
    return this.repository.findOneBy({ keyHash });
  }

  findById(id: string): Promise<ApiKey | null> {
    return this.repository.findOneBy({ id });
  }

  findAll(): Promise<ApiKey[]> {
    return this.repository.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  count(): Promise<number> {
    return this.repository.count();
  }

  insert(apiKey: ApiKey): Promise<ApiKey> {
    return this.repository.save(apiKey);
  }

  async delete(id: string): Promise<void> {
    await this.repository.delete({ id });
  }
}
