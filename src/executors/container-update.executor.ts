import { Injectable } from '@nestjs/common';
import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfigService } from '../config/app-config.service';
import {
  backupNameOf,
  createdFromImageId,
  hasHealthcheck,
  originalNameOf,
  pinnedByDigest,
  planRecreate,
  sameImageId,
  type RecreatePlan,
} from '../docker/container-recreate';
import { describeEngineFailure, type Engine } from '../docker/docker-engines';
import { pullImage } from '../docker/image-pull';
import { ProjectContainers, type ProjectContainer } from '../docker/project-containers';
import { ProjectsRepository } from '../projects/projects.repository';
import type { AbortReason, ExecutionOutcome, ExecutionRequest, TaskExecutor } from './task-executor';

export type ContainerUpdateStatus = 'updated' | 'up-to-date' | 'update-available' | 'skipped' | 'failed' | 'rolled-back';

export interface ContainerUpdateReport {
  name: string;
  /** The reference the container was created from (and that is pulled). */
  image: string;
  status: ContainerUpdateStatus;
  oldImageId: string;
  /** null when the newest image could not be found out. */
  newImageId: string | null;
  message?: string;
}

/** How often a recreated container's state is looked at while it settles or becomes healthy. */
const POLL_MS = 500;
/** Part of the run's timeout kept for rolling back after a healthcheck that never answered. */
const MAX_ROLLBACK_RESERVE_MS = 30_000;

const STOPPED_BY: Record<AbortReason, string> = {
  timeout: 'the run timed out',
  cancelled: 'the run was cancelled',
  interrupted: 'the service is shutting down',
};

/** Why a recreated container does not count as started. */
class NotStartedError extends Error {}

type LatestImage = { id: string } | { error: string };

/**
 * Pulls each container's image and recreates the containers whose image changed, with the same
 * configuration, checking that the new container keeps running (or becomes healthy) and rolling
 * back to the old container otherwise. Old images are never removed.
 */
@Injectable()
export class ContainerUpdateExecutor implements TaskExecutor<'container-update'> {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly containers: ProjectContainers,
    private readonly config: AppConfigService,
  ) {}

  async execute(request: ExecutionRequest<'container-update'>): Promise<ExecutionOutcome> {
    const { pullImages, restartAfterUpdate } = request.task.config;
    const { signal } = request;
    const timeoutMs = request.task.timeoutSeconds * 1000;
    const healthDeadline = Date.now() + timeoutMs - Math.min(MAX_ROLLBACK_RESERVE_MS, timeoutMs / 5);

    const project = await this.projects.findById(request.task.projectId);
    if (!project) return { status: 'failed', result: null, error: `Project ${request.task.projectId} no longer exists` };
    // An address the engine cannot be reached at throws: the runner records its reason.
    const engine = this.containers.engineOf(project);

    await request.lockProject();
    let containers: ProjectContainer[];
    const recovered: string[] = [];
    try {
      containers = await this.containers.list(project, signal);
      // Backups left by an update that never finished: put the old containers back before anything else.
      const leftovers = containers.map((container) => originalNameOf(container.name)).filter((name): name is string => name !== null);
      if (leftovers.length > 0) {
        await request.recordTouchedContainers(leftovers);
        for (const name of leftovers) {
          try {
            if (await this.restore(engine, name)) recovered.push(name);
          } catch (error) {
            const why = this.describe(engine, error, signal);
            return { status: 'failed', result: null, error: `Could not put back ${name} after an interrupted update: ${why}` };
          }
        }
        containers = await this.containers.list(project, signal);
      }
    } catch (error) {
      return { status: 'failed', result: null, error: this.describe(engine, error, signal) };
    }

    const reports = new Map<string, ContainerUpdateReport>();
    const candidates: ProjectContainer[] = [];
    for (const container of containers) {
      if (originalNameOf(container.name) !== null) continue;
      const report: ContainerUpdateReport = {
        name: container.name,
        image: container.image,
        status: 'skipped',
        oldImageId: container.imageId,
        newImageId: null,
      };
      reports.set(container.name, report);
      if (pinnedByDigest(container.image)) report.message = 'pinned by digest';
      else if (createdFromImageId(container.image, container.imageId)) report.message = 'created from an image ID, not a reference';
      else if (container.state !== 'running') report.message = `not running (${container.state})`;
      else candidates.push(container);
    }

    const latest = new Map<string, LatestImage>();
    for (const reference of new Set(candidates.map((container) => container.image))) {
      if (signal.aborted) break;
      latest.set(reference, await this.latestImage(engine, reference, pullImages, signal));
    }

    const toRecreate: ProjectContainer[] = [];
    for (const container of candidates) {
      const report = reports.get(container.name)!;
      const image = latest.get(container.image);
      if (!image) {
        report.message = `not updated: ${stoppedBy(signal)}`;
      } else if ('error' in image) {
        Object.assign(report, { status: 'failed', message: image.error });
      } else {
        report.newImageId = image.id;
        if (sameImageId(image.id, container.imageId)) report.status = 'up-to-date';
        else if (!restartAfterUpdate) report.status = 'update-available';
        else toRecreate.push(container);
      }
    }

    if (toRecreate.length > 0) {
      await request.recordTouchedContainers([...recovered, ...toRecreate.map((container) => container.name)]);
      for (const container of toRecreate) {
        const report = reports.get(container.name)!;
        if (signal.aborted) {
          report.message = `not updated: ${stoppedBy(signal)}`;
          continue;
        }
        Object.assign(report, await this.recreate(engine, container, signal, healthDeadline));
      }
    }

    return outcome([...reports.values()], recovered);
  }

  /** Puts back the old containers of an update that did not finish (same deterministic backup names). */
  async repair(projectId: string, touchedContainers: string[]): Promise<void> {
    const project = await this.projects.findById(projectId);
    if (!project) return;
    const engine = this.containers.engineOf(project);
    const problems: string[] = [];
    for (const name of touchedContainers) {
      try {
        await this.restore(engine, name);
      } catch (error) {
        problems.push(`${name}: ${this.describe(engine, error)}`);
      }
    }
    if (problems.length > 0) throw new Error(`could not put back the old containers of ${problems.join('; ')}`);
  }

  /** The ID of the newest image for `reference`: pulled first when asked, else what the engine has. */
  private async latestImage(engine: Engine, reference: string, pull: boolean, signal: AbortSignal): Promise<LatestImage> {
    const { docker } = engine;
    try {
      if (pull) await pullImage(docker, reference, signal);
      const image = await docker.getImage(reference).inspect();
      return { id: image.Id };
    } catch (error) {
      if (!pull && (error as { statusCode?: number }).statusCode === 404) return { error: `image ${reference} is not on the engine` };
      return { error: `${pull ? 'pull failed' : 'image inspect failed'}: ${this.describe(engine, error, signal)}` };
    }
  }

  /** Replaces one container; rolls back to the old one when the new one does not come up. */
  private async recreate(
    engine: Engine,
    container: ProjectContainer,
    signal: AbortSignal,
    healthDeadline: number,
  ): Promise<Pick<ContainerUpdateReport, 'status' | 'message'>> {
    const { docker } = engine;
    const { name } = container;
    const backup = backupNameOf(name);
    let plan: RecreatePlan;
    try {
      const info = await docker.getContainer(container.id).inspect({ abortSignal: signal });
      const oldImage = await docker
        .getImage(info.Image)
        .inspect()
        .catch((error: unknown) => {
          // Without the old image, nothing can be told apart as its default: everything is kept.
          if ((error as { statusCode?: number }).statusCode === 404) return null;
          throw error;
        });
      plan = planRecreate(info, oldImage?.Config ?? null, info.Config.Image);
    } catch (error) {
      return { status: 'failed', message: this.describe(engine, error, signal) };
    }

    const old = docker.getContainer(container.id);
    try {
      // Renamed first: from here on, a crash leaves a backup that `repair` finds by its name.
      await old.rename({ name: backup, abortSignal: signal });
      await old.stop({ abortSignal: signal }).catch(unlessStatus(304));
      const created = await docker.createContainer({ ...plan.create, name, abortSignal: signal });
      await this.connectNetworks(docker, created, plan, signal);
      await created.start({ abortSignal: signal });
      await this.waitUntilStarted(created, signal, healthDeadline);
    } catch (error) {
      const why = this.describe(engine, error, signal);
      try {
        // Nothing to put back when the rename itself failed: the old container was never touched.
        if (!(await this.restore(engine, name, container.id))) return { status: 'failed', message: why };
        return { status: 'rolled-back', message: `${why}; rolled back to the old image` };
      } catch (rollbackError) {
        return {
          status: 'failed',
          message: `${why}; rollback failed: ${this.describe(engine, rollbackError)} (the old container may be left as ${backup})`,
        };
      }
    }

    // The update stands once the new container is up, whatever the run's signal says now.
    try {
      await old.remove({ abortSignal: this.apiTimeout() });
    } catch (error) {
      return { status: 'updated', message: `the old container ${backup} could not be removed: ${this.describe(engine, error)}` };
    }
    return { status: 'updated' };
  }

  /** Networks beyond the one given at create: older engines accept only one there. */
  private async connectNetworks(docker: Docker, created: Docker.Container, plan: RecreatePlan, signal: AbortSignal): Promise<void> {
    if (plan.primaryNetwork === null) return;
    const attached = (await created.inspect({ abortSignal: signal })).NetworkSettings?.Networks ?? {};
    for (const [network, endpoint] of Object.entries(plan.endpoints)) {
      if (network in attached) continue;
      const options: Docker.NetworkConnectOptions & { abortSignal: AbortSignal } = {
        Container: created.id,
        EndpointConfig: endpoint,
        abortSignal: signal,
      };
      await docker.getNetwork(network).connect(options);
    }
  }

  /**
   * Resolves when the new container counts as started: healthy where it has a HEALTHCHECK, else
   * still running (not restarted) after the settle time.
   */
  private async waitUntilStarted(created: Docker.Container, signal: AbortSignal, healthDeadline: number): Promise<void> {
    const first = await created.inspect({ abortSignal: signal });
    const withHealthcheck = hasHealthcheck(first.Config);
    const settleMs = this.config.containerUpdateSettleMs;
    const settledAt = Date.now() + settleMs;
    for (let info = first; ; info = await created.inspect({ abortSignal: signal })) {
      const { State: state } = info;
      if (!state.Running || state.Restarting || state.StartedAt !== first.State.StartedAt) {
        const within = withHealthcheck ? '' : ` within ${settleMs / 1000} s`;
        throw new NotStartedError(`the new container stopped${within} (exit code ${state.ExitCode})`);
      }
      if (withHealthcheck) {
        const health = state.Health?.Status;
        if (health === 'healthy') return;
        if (health === 'unhealthy') throw new NotStartedError('the new container became unhealthy');
        if (Date.now() >= healthDeadline) throw new NotStartedError(`the new container was not healthy in time (${health || 'no status'})`);
      } else if (Date.now() >= settledAt) {
        return;
      }
      await sleep(POLL_MS, undefined, { signal });
    }
  }

  /**
   * Puts the old container back under `name` when its backup exists: removes whatever new
   * container holds the name, renames the backup back and starts it. Idempotent; false when there
   * was nothing to put back (or the backup is not `expectedId`). Ignores the run's signal: a
   * rollback must finish.
   */
  private async restore(engine: Engine, name: string, expectedId?: string): Promise<boolean> {
    const { docker } = engine;
    const backup = await this.inspectOrNull(docker, backupNameOf(name));
    if (!backup || (expectedId !== undefined && backup.Id !== expectedId)) return false;
    const current = await this.inspectOrNull(docker, name);
    // The engine also resolves a free name as an ID prefix: only a container with that very name goes.
    if (current && current.Id !== backup.Id && current.Name.replace(/^\//, '') === name) {
      await docker.getContainer(current.Id).remove({ force: true, abortSignal: this.apiTimeout() }).catch(unlessStatus(404));
    }
    const old = docker.getContainer(backup.Id);
    try {
      await old.rename({ name, abortSignal: this.apiTimeout() });
    } catch (error) {
      // Another repair of the same run may have been first.
      if ((await this.inspectOrNull(docker, name))?.Id !== backup.Id) throw error;
    }
    await old.start({ abortSignal: this.apiTimeout() }).catch(unlessStatus(304));
    return true;
  }

  private async inspectOrNull(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await docker.getContainer(name).inspect({ abortSignal: this.apiTimeout() });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return null;
      throw error;
    }
  }

  private apiTimeout(): AbortSignal {
    return AbortSignal.timeout(this.config.dockerApiTimeoutMs);
  }

  /** One line for people: the engine's own message where it gave one, and why the run stopped when it did. */
  private describe(engine: Engine, error: unknown, signal?: AbortSignal): string {
    if (signal?.aborted) return stoppedBy(signal);
    return describeEngineFailure(engine, error);
  }
}


function stoppedBy(signal: AbortSignal): string {
  return STOPPED_BY[signal.reason as AbortReason] ?? 'the run was stopped';
}


/** For `.catch`: an engine answer with this status means the step was already done. */
function unlessStatus(status: number) {
  return (error: unknown): void => {
    if ((error as { statusCode?: number }).statusCode !== status) throw error;
  };
}

function outcome(containers: ContainerUpdateReport[], recovered: string[]): ExecutionOutcome {
  const count = (status: ContainerUpdateStatus) => containers.filter((container) => container.status === status).length;
  const result = {
    containers,
    updated: count('updated'),
    upToDate: count('up-to-date'),
    updateAvailable: count('update-available'),
    skipped: count('skipped'),
    failed: count('failed'),
    rolledBack: count('rolled-back'),
    ...(recovered.length > 0 && { recoveredFromInterruptedUpdate: recovered }),
  };
  const problems = containers.filter((container) => container.status === 'failed' || container.status === 'rolled-back');
  if (problems.length === 0) return { status: 'success', result };
  const list = problems.map((container) => `${container.name} (${container.status}: ${container.message ?? 'no detail'})`);
  return { status: 'failed', result, error: `Update failed for ${problems.length} container(s): ${list.join(', ')}` };
}
