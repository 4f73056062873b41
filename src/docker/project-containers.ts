import { Injectable } from '@nestjs/common';
import type Docker from 'dockerode';
import { DockerEngines, engineError, type Engine } from './docker-engines';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting' | null;

export interface PublishedPort {
  containerPort: number;
  protocol: string;
  /** Absent when the port is exposed but not published. */
  hostPort: number | null;
  hostIp: string | null;
}

export interface ProjectContainer {
  id: string;
  name: string;
  service: string | null;
  image: string;
  imageId: string;
  /** The engine's word: running, exited, paused, restarting, created, dead. */
  state: string;
  /** null when the container has no HEALTHCHECK. */
  health: ContainerHealth;
  ports: PublishedPort[];
}

export interface ProjectRef {
  id: string;
  dockerHost: string | null;
}

/** The containers of a project: those labelled `com.docker.compose.project=<id>` on its engine. */
@Injectable()
export class ProjectContainers {
  constructor(private readonly engines: DockerEngines) {}

  engineOf(project: ProjectRef): Engine {
    return this.engines.forProject(project);
  }

  async list(project: ProjectRef, signal?: AbortSignal): Promise<ProjectContainer[]> {
    const engine = this.engineOf(project);
    try {
      const summaries = await engine.docker.listContainers({
        all: true,
        filters: { label: [`${COMPOSE_PROJECT_LABEL}=${project.id}`] },
        abortSignal: signal,
      });
      // Health is only in inspect data; a container removed in between is simply left out.
      const inspected = await Promise.all(
        summaries.map((summary) =>
          engine.docker
            .getContainer(summary.Id)
            .inspect({ abortSignal: signal })
            .catch((error: unknown) => {
              if ((error as { statusCode?: number }).statusCode === 404) return null;
              throw error;
            }),
        ),
      );
      return inspected
        .filter((info): info is Docker.ContainerInspectInfo => info !== null)
        .map(toProjectContainer)
        .sort((a, b) => a.name.localeCompare(b.name));
    } catch (error) {
      throw engineError(engine, error);
    }
  }

  /**
   * A container of the project by container name or Compose service name (the first running one
   * of a scaled service). Null when there is none.
   */
  async find(project: ProjectRef, nameOrService: string, signal?: AbortSignal): Promise<ProjectContainer | null> {
    const containers = await this.list(project, signal);
    const byName = containers.find((container) => container.name === nameOrService);
    if (byName) return byName;
    const ofService = containers.filter((container) => container.service === nameOrService);
    return ofService.find((container) => container.state === 'running') ?? ofService[0] ?? null;
  }
}

export function toProjectContainer(info: Docker.ContainerInspectInfo): ProjectContainer {
  const labels = info.Config.Labels ?? {};
  const ports: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(info.NetworkSettings?.Ports ?? info.HostConfig?.PortBindings ?? {})) {
    const [port, protocol = 'tcp'] = key.split('/');
    const list = (bindings as Array<{ HostIp?: string; HostPort?: string }> | null) ?? [];
    if (list.length === 0) ports.push({ containerPort: Number(port), protocol, hostPort: null, hostIp: null });
    for (const binding of list) {
      ports.push({
        containerPort: Number(port),
        protocol,
        hostPort: binding.HostPort ? Number(binding.HostPort) : null,
        hostIp: binding.HostIp || null,
      });
    }
  }
  const health = info.State.Health?.Status;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    service: labels[COMPOSE_SERVICE_LABEL] ?? null,
    image: info.Config.Image,
    imageId: info.Image,
    state: info.State.Status,
    health: health === 'healthy' || health === 'unhealthy' || health === 'starting' ? health : null,
    ports,
  };
}
