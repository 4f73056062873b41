import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppConfigService } from '../config/app-config.service';
import { ForbiddenError, NotFoundError, ProjectNotFoundError, ValidationFailedError } from '../common/errors/domain-errors';
import { newId } from '../common/ids';
import { ProjectsRepository } from '../projects/projects.repository';
import { ApiKeysRepository } from './api-keys.repository';
import type { CreateApiKeyDto } from './dto/api-key.dto';
import { ApiKey } from './entities/api-key.entity';
import { covers, type Principal } from './principal';

/** The principal of `ADMIN_API_KEY`: every permission, every project. */
export const BOOTSTRAP_KEY_ID = 'admin-env';
const KEY_PREFIX = 'dts_';

function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function generateSecret(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

@Injectable()
export class ApiKeysService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly bootstrapKeyHash: Buffer | null;

  constructor(
    private readonly apiKeys: ApiKeysRepository,
    private readonly projects: ProjectsRepository,
    private readonly config: AppConfigService,
  ) {
    const bootstrapKey = config.adminApiKey;
    this.bootstrapKeyHash = bootstrapKey ? sha256(bootstrapKey) : null;
  }

  /** With no key configured and none stored, make one and leave it in a file only root can read. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.bootstrapKeyHash) return;
    const secret = generateSecret();
    const created = await this.apiKeys.insertIfNone(
      this.buildKey(secret, { name: 'admin (generated at first start)', permissions: ['*'] }, null),
    );
    if (!created) return;
    const file = this.config.adminApiKeyFile;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    this.logger.warn(`No API key was configured: generated an admin key, written to ${file}`);
  }

  async authenticate(secret: string): Promise<Principal | null> {
    const hash = sha256(secret);
    if (this.bootstrapKeyHash && timingSafeEqual(hash, this.bootstrapKeyHash)) {
      return { keyId: BOOTSTRAP_KEY_ID, permissions: ['*'], projectIds: null, expiresAt: null };
    }
    const apiKey = await this.apiKeys.findByHash(hash.toString('hex'));
    if (!apiKey || (apiKey.expiresAt && apiKey.expiresAt.getTime() <= Date.now())) return null;
    return { keyId: apiKey.id, permissions: apiKey.permissions, projectIds: apiKey.projectIds, expiresAt: apiKey.expiresAt };
  }

  async create(principal: Principal, request: CreateApiKeyDto): Promise<{ apiKey: ApiKey; secret: string }> {
    const expiresAt = request.expiresAt ? new Date(request.expiresAt) : principal.expiresAt;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new ValidationFailedError([{ field: 'expiresAt', message: 'expiresAt must be in the future' }]);
    }
    // A short-lived key must not be able to leave a permanent one behind.
    if (principal.expiresAt && (!expiresAt || expiresAt > principal.expiresAt)) {
      throw new ForbiddenError('A key cannot mint a key that outlives it');
    }
    // A scoped key that names no projects mints a key for its own projects, never a wider one.
    const projectIds = request.projectIds ?? principal.projectIds;
    if (!covers(principal, { permissions: request.permissions, projectIds })) {
      throw new ForbiddenError('A key cannot grant permissions or projects it does not have');
    }
    for (const projectId of projectIds ?? []) {
      if (!(await this.projects.exists(projectId))) throw new ProjectNotFoundError();
    }
    const secret = generateSecret();
    const apiKey = await this.apiKeys.insert(
      this.buildKey(secret, { name: request.name, permissions: request.permissions, expiresAt }, principal.keyId, projectIds),
    );
    return { apiKey, secret };
  }

  /** Keys the caller could have minted: the same rule decides what it may see and revoke. */
  async list(principal: Principal): Promise<ApiKey[]> {
    const all = await this.apiKeys.findAll();
    return all.filter((apiKey) => covers(principal, apiKey));
  }

  async revoke(principal: Principal, id: string): Promise<void> {
    const apiKey = await this.apiKeys.findById(id);
    if (!apiKey || !covers(principal, apiKey)) throw new NotFoundError('API key not found');
    await this.apiKeys.delete(id);
  }

  private buildKey(
    secret: string,
    fields: Pick<ApiKey, 'name' | 'permissions'> & { expiresAt?: Date | null },
    createdBy: string | null,
    projectIds: readonly string[] | null = null,
  ): ApiKey {
    const apiKey = new ApiKey();
    apiKey.id = newId('key');
    apiKey.name = fields.name;
    apiKey.keyHash = sha256(secret).toString('hex');
    apiKey.permissions = [...fields.permissions];
    apiKey.projectIds = projectIds ? [...projectIds] : null;
    apiKey.expiresAt = fields.expiresAt ?? null;
    apiKey.createdBy = createdBy;
    return apiKey;
  }
}
