import { Injectable } from '@nestjs/common';
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { packBackup, type BackupSource } from '../backups/archive/backup-archive';
import { BackupStores } from '../backups/backup-stores';
import { BackupsRepository } from '../backups/backups.repository';
import { Backup } from '../backups/entities/backup.entity';
import { newId } from '../common/ids';
import { AppConfigService } from '../config/app-config.service';
import { execInContainer } from '../docker/container-exec';
import { describeEngineFailure, engineError, type Engine } from '../docker/docker-engines';
import { ProjectContainers, type ProjectRef } from '../docker/project-containers';
import { ProjectsRepository } from '../projects/projects.repository';
import type { BackupConfig, BackupHook } from '../tasks/task-config';
import type { ExecutionOutcome, ExecutionOutput, ExecutionRequest, TaskExecutor } from './task-executor';

export const BACKUP_FORMAT = 'docker-task-scheduler-backup/1';

/** One volume or bind mount in the archive, and where the project mounts it. */
interface ArchivedMount {
  kind: 'volume' | 'bind';
  /** Volume name, or host path of a bind mount. */
  name: string;
  prefix: string;
  mountedBy: Array<{ container: string; destination: string }>;
  /** The container the copy is read from (any container that mounts it). */
  readFrom: { id: string; destination: string };
}

class HookFailedError extends Error {}

/**
 * Backs a project up as one streamed archive — manifest, then its volumes (and bind mounts for
 * `full`) — compressed, optionally age-encrypted, to S3 or a local directory; recorded only once
 * the store confirmed size and checksum. Then applies the task's retention.
 */
@Injectable()
export class BackupExecutor implements TaskExecutor<'backup'> {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly containers: ProjectContainers,
    private readonly stores: BackupStores,
    private readonly backups: BackupsRepository,
    private readonly config: AppConfigService,
  ) {}

  async execute(request: ExecutionRequest<'backup'>): Promise<ExecutionOutcome> {
    const config = request.task.config;
    const project = await this.projects.findById(request.task.projectId);
    if (!project) throw new Error(`Project ${request.task.projectId} no longer exists`);
    // Settings are checked before anything is touched: a misconfigured server fails the run at once.
    const store = this.stores.get(config.destination);
    const encryption = config.encrypt ? this.config.backupEncryption : undefined;
    if (encryption === null) {
      throw new Error('encrypt is set but no BACKUP_AGE_RECIPIENTS or BACKUP_AGE_PASSPHRASE is configured on this server');
    }
    const engine = this.containers.engineOf(project);
    const startedAt = performance.now();
    const output = { stdout: '', stderr: '' };

    await request.lockProject();
    let stopped: string[] = [];
    let hooksBeforeRan = false;
    try {
      const inspected = await this.inspectProject(engine, project, request.signal);
      // Most likely a project id that is not the Compose project name: an empty archive would hide that.
      if (inspected.length === 0) throw new Error(`Nothing to back up: no containers labelled com.docker.compose.project=${project.id} on ${engine.label}`);
      await this.runHooks('before', config.hooks.before, project, request, output);
      hooksBeforeRan = true;

      if (config.stopContainers) {
        const running = inspected.filter((info) => info.State.Running).map((info) => info.Name.replace(/^\//, ''));
        await request.recordTouchedContainers(running);
        stopped = running;
        for (const name of running) await engine.docker.getContainer(name).stop({ abortSignal: request.signal });
      }

      const backupId = newId('backup');
      const createdAt = new Date();
      const mounts = config.type === 'config' ? [] : archivedMounts(inspected, config.type === 'full');
      const sources: BackupSource[] = mounts.map((mount) => ({
        prefix: mount.prefix,
        // dockerode types the response as a plain stream; it is an http.IncomingMessage, a Readable.
        tar: async () => (await engine.docker.getContainer(mount.readFrom.id).getArchive({ path: mount.readFrom.destination })) as Readable,
      }));
      const manifest = {
        format: BACKUP_FORMAT,
        backupId,
        projectId: project.id,
        taskId: request.task.id,
        executionId: request.executionId,
        createdAt: createdAt.toISOString(),
        type: config.type,
        encrypted: encryption !== undefined,
        mounts: mounts.map(({ kind, name, prefix, mountedBy }) => ({ kind, name, prefix, mountedBy })),
        containers: inspected.map(manifestEntry),
      };
      const archive = packBackup({ manifest, sources }, encryption ? { encryption } : {});
      const key = `${project.id}/${createdAt.toISOString().replace(/[:.]/g, '-')}-${backupId}.tar.gz${encryption ? '.age' : ''}`;
      const stored = await store.write(key, archive, request.signal);

      const backup = Object.assign(new Backup(), {
        id: backupId,
        projectId: project.id,
        taskId: request.task.id,
        executionId: request.executionId,
        createdAt,
        type: config.type,
        destination: config.destination,
        location: stored.location,
        storageKey: key,
        size: stored.size,
        sha256: stored.sha256,
        encrypted: encryption !== undefined,
        volumes: mounts.map((mount) => mount.name),
      });
      try {
        await this.backups.insert(backup);
      } catch (error) {
        // An object nobody lists would never be restored nor retired: it goes too.
        await store.delete(key).catch(() => undefined);
        throw error;
      }

      const restarted = await this.startAgain(engine, stopped);
      stopped = [];
      const afterHookError = await this.runHooks('after', config.hooks.after, project, request, output).then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      hooksBeforeRan = false;
      const retention = afterHookError === undefined ? await this.applyRetention(backup, config) : { deleted: [], problems: [] };

      const result = {
        backupId,
        destination: config.destination,
        location: stored.location,
        size: stored.size,
        sha256: stored.sha256,
        encrypted: backup.encrypted,
        type: config.type,
        volumes: mounts.filter((mount) => mount.kind === 'volume').map((mount) => mount.name),
        bindMounts: mounts.filter((mount) => mount.kind === 'bind').map((mount) => mount.name),
        containersStopped: restarted,
        retention,
        durationMs: Math.round(performance.now() - startedAt),
      };
      const outcomeOutput = hasOutput(output) ? output : undefined;
      if (afterHookError !== undefined) {
        return { status: 'failed', result, error: `Backup ${backupId} stored and verified, but ${afterHookError}`, output: outcomeOutput };
      }
      return { status: 'success', result, output: outcomeOutput };
    } catch (error) {
      const reason = error instanceof HookFailedError ? error.message : describeEngineFailure(engine, error);
      return { status: 'failed', result: null, error: reason, ...(hasOutput(output) && { output }) };
    } finally {
      // Whatever happened: the containers that were running run again, and `after` hooks undo what `before` did.
      if (stopped.length > 0) await this.startAgain(engine, stopped).catch(() => undefined);
      if (hooksBeforeRan && config.hooks.after.length > 0) {
        await this.runHooks('after', config.hooks.after, project, { ...request, signal: AbortSignal.timeout(60_000) }, output).catch(
          () => undefined,
        );
      }
    }
  }

  /** After a crash: starts the containers the interrupted run had stopped. */
  async repair(projectId: string, touchedContainers: string[]): Promise<void> {
    const project = await this.projects.findById(projectId);
    if (!project) return;
    await this.startAgain(this.containers.engineOf(project), touchedContainers);
  }

  private async inspectProject(engine: Engine, project: ProjectRef, signal: AbortSignal): Promise<Docker.ContainerInspectInfo[]> {
    try {
      const containers = await this.containers.list(project, signal);
      return await Promise.all(containers.map((container) => engine.docker.getContainer(container.id).inspect({ abortSignal: signal })));
    } catch (error) {
      throw engineError(engine, error);
    }
  }

  /** Starts each container that is not running; resolves with those it started. */
  private async startAgain(engine: Engine, names: string[]): Promise<string[]> {
    const problems: string[] = [];
    for (const name of names) {
      try {
        await engine.docker.getContainer(name).start();
      } catch (error) {
        // 304: already running.
        if ((error as { statusCode?: number }).statusCode !== 304) problems.push(`${name}: ${describeEngineFailure(engine, error)}`);
      }
    }
    if (problems.length > 0) throw new Error(`could not start again ${problems.join('; ')}`);
    return names;
  }

  private async runHooks(
    phase: 'before' | 'after',
    hooks: BackupHook[],
    project: ProjectRef,
    request: Pick<ExecutionRequest<'backup'>, 'signal' | 'task'>,
    output: ExecutionOutput,
  ): Promise<void> {
    for (const hook of hooks) {
      const found = await this.containers.find(project, hook.container, request.signal);
      if (!found || found.state !== 'running') {
        throw new HookFailedError(`${phase} hook: no running container or service named ${hook.container} in project ${project.id}`);
      }
      const engine = this.containers.engineOf(project);
      const run = await execInContainer(engine.docker.getContainer(found.id), hook.command, {
        signal: request.signal,
        timeoutSeconds: request.task.timeoutSeconds,
        outputLimitBytes: Math.floor(this.config.outputLimitBytes / 4),
      });
      output.stdout += `[${phase} hook in ${found.name}] ${run.stdout}`;
      output.stderr += run.stderr ? `[${phase} hook in ${found.name}] ${run.stderr}` : '';
      if (run.exitCode !== 0) {
        throw new HookFailedError(`${phase} hook in ${found.name} ${run.aborted ? 'was stopped' : `exited with code ${run.exitCode}`}`);
      }
    }
  }

  /**
   * keepLast / maxAgeDays over this task's backups of this project, after a verified success
   * only and never the one just made. The object goes first: a row without its object would
   * list a backup that cannot be restored.
   */
  private async applyRetention(
    current: Backup,
    config: BackupConfig,
  ): Promise<{ deleted: string[]; problems: string[] }> {
    if (!config.retention || (config.retention.keepLast === undefined && config.retention.maxAgeDays === undefined)) {
      return { deleted: [], problems: [] };
    }
    const doomed = retentionVictims(current, await this.backups.findByTask(current.projectId, current.taskId!), config.retention);
    const deleted: string[] = [];
    const problems: string[] = [];
    for (const backup of doomed) {
      try {
        await this.stores.get(backup.destination).delete(backup.storageKey);
        await this.backups.delete(backup.id);
        deleted.push(backup.id);
      } catch (error) {
        problems.push(`${backup.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return { deleted, problems };
  }
}

/**
 * The backups retention removes: with `newestFirst` the task's backups of the project (the
 * current one among them or not), all beyond the newest `keepLast` (the current one counting as
 * one) and all older than `maxAgeDays` before the current one. Never the current one.
 */
export function retentionVictims<B extends { id: string; createdAt: Date }>(
  current: B,
  newestFirst: B[],
  retention: { keepLast?: number; maxAgeDays?: number },
): B[] {
  const older = newestFirst.filter((backup) => backup.id !== current.id);
  const cutoff = retention.maxAgeDays === undefined ? null : current.createdAt.getTime() - retention.maxAgeDays * 86_400_000;
  return older.filter(
    (backup, index) =>
      (retention.keepLast !== undefined && index + 1 >= retention.keepLast) || (cutoff !== null && backup.createdAt.getTime() < cutoff),
  );
}

/** The project's named volumes (and, for `full`, bind mounts), each once, with who mounts it where. */
export function archivedMounts(containers: Docker.ContainerInspectInfo[], withBinds: boolean): ArchivedMount[] {
  const byKey = new Map<string, ArchivedMount>();
  const usedPrefixes = new Set<string>();
  for (const info of containers) {
    const container = info.Name.replace(/^\//, '');
    for (const mount of info.Mounts ?? []) {
      const kind = mount.Type === 'volume' ? 'volume' : mount.Type === 'bind' && withBinds ? 'bind' : null;
      if (kind === null) continue;
      const name = kind === 'volume' ? mount.Name! : mount.Source;
      const key = `${kind}:${name}`;
      let archived = byKey.get(key);
      if (!archived) {
        const base = kind === 'volume' ? `volumes/${name}` : `binds/${name.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'root'}`;
        let prefix = `${base}/`;
        for (let n = 2; usedPrefixes.has(prefix); n++) prefix = `${base}-${n}/`;
        usedPrefixes.add(prefix);
        archived = { kind, name, prefix, mountedBy: [], readFrom: { id: info.Id, destination: mount.Destination } };
        byKey.set(key, archived);
      }
      archived.mountedBy.push({ container, destination: mount.Destination });
    }
  }
  return [...byKey.values()].sort((a, b) => a.prefix.localeCompare(b.prefix));
}

/** What the manifest keeps of a container: enough to recreate it by hand. */
function manifestEntry(info: Docker.ContainerInspectInfo) {
  return {
    name: info.Name.replace(/^\//, ''),
    id: info.Id,
    image: info.Config.Image,
    imageId: info.Image,
    labels: info.Config.Labels ?? {},
    state: info.State.Status,
    config: info.Config,
    hostConfig: info.HostConfig,
    mounts: info.Mounts,
    networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
  };
}

function hasOutput(output: ExecutionOutput): boolean {
  return output.stdout.length > 0 || output.stderr.length > 0;
}
