import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { fromJson, rawQuery, toDate } from '../database/raw-rows';
import { ApiKey } from './entities/api-key.entity';

// Arbitrary constant shared by every replica: serialises the first start's key generation.
const GENERATED_KEY_LOCK_ID = 4_711_003;

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly repository: Repository<ApiKey>) {}

  /** On every request: a raw read, without TypeORM's per-query building and hydration. */
  async findByHash(keyHash: string): Promise<Pick<ApiKey, 'id' | 'permissions' | 'projectIds' | 'expiresAt'> | null> {
    const [row] = await rawQuery<{ id: string; permissions: string; projectIds: string | null; expiresAt: Date | string | null }>(
      this.repository.manager.connection,
      'SELECT "id", "permissions", "projectIds", "expiresAt" FROM "api_keys" WHERE "keyHash" = :keyHash',
      { keyHash },
    );
    if (!row) return null;
    return {
      id: row.id,
      permissions: fromJson<ApiKey['permissions']>(row.permissions) ?? [],
      projectIds: fromJson<string[]>(row.projectIds),
      expiresAt: toDate(row.expiresAt),
    };
  }

  findById(id: string): Promise<ApiKey | null> {
    return this.repository.findOneBy({ id });
  }

  findAll(): Promise<ApiKey[]> {
    return this.repository.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Stores the key only if there is no key at all; replicas starting together generate one between them. */
  insertIfNone(apiKey: ApiKey): Promise<boolean> {
    return this.repository.manager.transaction(async (manager) => {
      if (manager.connection.options.type === 'postgres') {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [GENERATED_KEY_LOCK_ID]);
      }
      if ((await manager.count(ApiKey)) > 0) return false;
      await manager.save(apiKey);
      return true;
    });
  }

  insert(apiKey: ApiKey): Promise<ApiKey> {
    return this.repository.save(apiKey);
  }

  async delete(id: string): Promise<void> {
    await this.repository.delete({ id });
  }
}
