import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-errors';
import { AppConfigService } from '../config/app-config.service';
import { describeEngineFailure, engineError, type Engine } from '../docker/docker-engines';
import { pullImage } from '../docker/image-pull';
import { ProjectContainers } from '../docker/project-containers';
import { canAccessProject, type Principal } from '../permissions/principal';
import { ProjectsRepository } from '../projects/projects.repository';
import { ProjectLocksRepository } from '../scheduler/project-locks.repository';
import { BackupArchiveError, verifyBackup } from './archive/backup-archive';
import { BackupStores } from './backup-stores';
import { BackupsRepository } from './backups.repository';
import type { Backup } from './entities/backup.entity';
import { restoreMounts, type ManifestMount } from './volume-restore';

/** The stored archive does not hold up: wrong key, checksum mismatch, corruption. Nothing was changed. */
export class BackupUnreadableError extends DomainError {
  readonly status = 422;
  constructor(reason: string) {
    super('Backup cannot be restored', reason);
  }
}

/** The engine failed while the mounts were being replaced: they may be partly restored. */
export class RestoreFailedError extends DomainError {
  readonly status = 502;
  constructor(reason: string) {
    super('Restore failed', reason);
  }
}

export interface RestoreResult {
  backupId: string;
  /** Volume names and bind-mount paths whose contents were replaced. */
  restored: string[];
  /** Stopped for the restore and started again. */
  containersRestarted: string[];
  verified: { size: number; sha256: string; entries: number };
  durationMs: number;
}

const LOCK_WAIT_MS = 30_000;
const LOCK_POLL_MS = 1000;

@Injectable()
export class BackupsService {
  private readonly logger = new Logger(BackupsService.name);

  constructor(
    private readonly backups: BackupsRepository,
    private readonly projects: ProjectsRepository,
    private readonly stores: BackupStores,
    private readonly containers: ProjectContainers,
    private readonly locks: ProjectLocksRepository,
    private readonly config: AppConfigService,
  ) {}

  async list(principal: Principal, projectId: string): Promise<Backup[]> {
    await this.visibleProject(principal, projectId);
    return this.backups.findByProject(projectId);
  }

  /**
   * Verifies the whole archive (checksum, decryption, unpacking) first; only then stops the
   * containers that use its mounts, replaces the mounts' contents and starts the containers again.
   * Holds the project's lock, as container-changing runs do.
   */
  async restore(principal: Principal, projectId: string, backupId: string): Promise<RestoreResult> {
    const startedAt = performance.now();
    const project = await this.visibleProject(principal, projectId);
    const backup = await this.backups.findOne(projectId, backupId);
    if (!backup) throw new NotFoundError('Backup not found');
    const reason = this.stores.unavailableReason(backup.destination);
    if (reason !== null) throw new ConflictError('Backup cannot be restored', `its destination is not usable: ${reason}`);
    const store = this.stores.get(backup.destination);
    const decryption = this.config.backupDecryption;
    if (backup.encrypted && !decryption.identityFile && !decryption.passphrase) {
      throw new ConflictError('Backup cannot be restored', 'it is encrypted and no BACKUP_AGE_IDENTITY_FILE (or BACKUP_AGE_PASSPHRASE) is configured');
    }

    const holder = `restore-${randomBytes(8).toString('hex')}`;
    await this.lock(projectId, holder);
    const renewal = setInterval(() => {
      void this.locks.renewLocks([holder], this.lockExpiry()).catch(() => undefined);
    }, Math.max(1000, this.config.runLeaseMs / 3));
    try {
      let summary;
      try {
        summary = await verifyBackup(await store.read(backup.storageKey), backup.sha256, decryption);
      } catch (error) {
        if (error instanceof BackupArchiveError) throw new BackupUnreadableError(error.message);
        throw error;
      }
      const mounts = manifestMounts(summary.manifest);
      const engine = this.containers.engineOf(project);
      if (mounts.length > 0) await this.ensureImage(engine, this.config.backupHelperImage);
      const stopped = await this.stopUsers(engine, project, mounts);
      try {
        await restoreMounts(engine.docker, this.config.backupHelperImage, mounts, () => store.read(backup.storageKey), decryption, backup.id);
      } catch (error) {
        throw mapEngineError(engine, error);
      } finally {
        await this.startAgain(engine, stopped);
      }
      return {
        backupId: backup.id,
        restored: mounts.map((mount) => mount.name),
        containersRestarted: stopped,
        verified: { size: summary.size, sha256: summary.sha256, entries: summary.entries },
        durationMs: Math.round(performance.now() - startedAt),
      };
    } finally {
      clearInterval(renewal);
      await this.locks.unlock(projectId, holder).catch(() => undefined);
    }
  }

  private async visibleProject(principal: Principal, projectId: string) {
    const project = canAccessProject(principal, projectId) ? await this.projects.findById(projectId) : null;
    if (!project) throw new NotFoundError('Project not found');
    return project;
  }

  private lockExpiry(): Date {
    return new Date(Date.now() + this.config.runLeaseMs);
  }

  private async lock(projectId: string, holder: string): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    const lock = () => ({ projectId, executionId: holder, replicaId: this.config.replicaId, expiresAt: this.lockExpiry() });
    while (!(await this.locks.tryLock(lock(), new Date()))) {
      if (Date.now() > deadline) {
        throw new ConflictError('Project is busy', 'another container-changing run or restore of this project is going on; try again later');
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }

  /** Running containers of the project that mount any of the mounts being restored. */
  private async stopUsers(engine: Engine, project: { id: string; dockerHost: string | null }, mounts: ManifestMount[]): Promise<string[]> {
    const names = new Set(mounts.flatMap((mount) => mount.mountedBy.map((user) => user.container)));
    const running = (await this.containers.list(project)).filter((container) => container.state === 'running');
    const users: string[] = [];
    for (const container of running) {
      const info = await engine.docker.getContainer(container.id).inspect();
      const mountsOne = (info.Mounts ?? []).some((mount) =>
        mounts.some((wanted) => (wanted.kind === 'volume' ? mount.Name === wanted.name : mount.Source === wanted.name)),
      );
      if (mountsOne || names.has(container.name)) users.push(container.name);
    }
    for (const name of users) await engine.docker.getContainer(name).stop();
    return users;
  }

  private async startAgain(engine: Engine, names: string[]): Promise<void> {
    for (const name of names) {
      await engine.docker
        .getContainer(name)
        .start()
        .catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode !== 304) this.logger.error(`Could not start ${name} again after a restore: ${String(error)}`);
        });
    }
  }

  /** Before anything is stopped: a helper image that cannot be had fails the restore with nothing changed. */
  private async ensureImage(engine: Engine, image: string): Promise<void> {
    try {
      await engine.docker.getImage(image).inspect();
      return;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw engineError(engine, error);
    }
    try {
      await pullImage(engine.docker, image);
    } catch (error) {
      const mapped = engineError(engine, error);
      if (mapped instanceof DomainError) throw mapped;
      throw new RestoreFailedError(
        `the helper image ${image} (BACKUP_HELPER_IMAGE) could not be pulled; nothing was changed: ${describeEngineFailure(engine, error)}`,
      );
    }
  }
}

function manifestMounts(manifest: Record<string, unknown>): ManifestMount[] {
  const mounts = manifest.mounts;
  if (!Array.isArray(mounts)) throw new BackupUnreadableError('its manifest lists no mounts');
  return mounts as ManifestMount[];
}

function mapEngineError(engine: Engine, error: unknown): unknown {
  const mapped = engineError(engine, error);
  if (mapped instanceof DomainError) return mapped;
  return new RestoreFailedError(
    `after the archive was verified, writing the mounts failed (they may be partly restored; run the restore again): ${describeEngineFailure(engine, error)}`,
  );
}
