import { Injectable } from '@nestjs/common';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AppConfigService } from '../config/app-config.service';
import { publishedPortHost } from '../docker/docker-host';
import { ProjectContainers, type ProjectContainer } from '../docker/project-containers';
import { ProjectsRepository } from '../projects/projects.repository';
import type { HealthCheckEndpoint } from '../tasks/task-config';
import { hostAllowed } from '../common/allowed-hosts';
import type { ExecutionOutcome, ExecutionRequest, TaskExecutor } from './task-executor';

export type CheckStatus = 'ok' | 'warning' | 'failed';

export interface ContainerCheck {
  name: string;
  service: string | null;
  state: string;
  health: ProjectContainer['health'];
  status: CheckStatus;
  message?: string;
}

export interface ProbeResult {
  kind: 'port' | 'endpoint';
  /** `container:port/tcp` for ports, the URL (without credentials) for endpoints. */
  target: string;
  address?: string;
  status: CheckStatus;
  latencyMs: number | null;
  httpStatus?: number;
  expectStatus?: number;
  message?: string;
}

/**
 * Checks a project: its containers (running; healthy where they have a HEALTHCHECK), its published
 * TCP ports and its HTTP endpoints. The result names every container and every probe; bodies of
 * endpoints are never read.
 */
@Injectable()
export class HealthCheckExecutor implements TaskExecutor<'health-check'> {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly containers: ProjectContainers,
    private readonly config: AppConfigService,
  ) {}

  async execute(request: ExecutionRequest<'health-check'>): Promise<ExecutionOutcome> {
    const { checkContainers, checkConnectivity, endpoints } = request.task.config;
    const project = await this.projects.findById(request.task.projectId);
    if (!project) throw new Error(`Project ${request.task.projectId} no longer exists`);
    const engine = this.containers.engineOf(project);

    const needContainers = checkContainers || checkConnectivity;
    const containers = needContainers ? await this.containers.list(project, request.signal) : [];
    const containerChecks = checkContainers ? containers.map(checkContainer) : [];
    const probes: ProbeResult[] = [];
    if (checkConnectivity) {
      const portProbes = containers.flatMap((container) =>
        container.ports
          .filter((port) => port.protocol === 'tcp' && port.hostPort !== null)
          .map((port) => {
            const address = `${publishedPortHost(engine.host, port.hostIp ?? undefined)}:${port.hostPort}`;
            return this.probePort(`${container.name}:${port.containerPort}/tcp`, address, request.signal);
          }),
      );
      const endpointProbes = endpoints.map((endpoint) => this.probeEndpoint(endpoint, request.signal));
      probes.push(...(await Promise.all([...portProbes, ...endpointProbes])));
    }

    const problems: string[] = [];
    if (checkContainers && containers.length === 0) {
      problems.push(`no containers labelled com.docker.compose.project=${project.id} on ${engine.label}`);
    }
    for (const check of containerChecks) if (check.status === 'failed') problems.push(`container ${check.name}: ${check.message}`);
    for (const probe of probes) if (probe.status === 'failed') problems.push(`${probe.kind} ${probe.target}: ${probe.message}`);
    const warnings = [
      ...containerChecks.filter((check) => check.status === 'warning').map((check) => `container ${check.name}: ${check.message}`),
    ];

    const result = {
      healthy: problems.length === 0,
      containers: containerChecks,
      probes,
      warnings,
      problems,
    };
    if (problems.length === 0) return { status: 'success', result };
    const error = problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join('; ')}`;
    return { status: 'failed', result, error };
  }

  private probePort(target: string, address: string, signal: AbortSignal): Promise<ProbeResult> {
    const timeoutMs = this.config.healthCheckPortTimeoutMs;
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator);
    const port = Number(address.slice(separator + 1));
    const startedAt = performance.now();
    return new Promise((resolve) => {
      const socket = connect({ host, port, signal });
      const finish = (status: CheckStatus, message?: string) => {
        socket.destroy();
        clearTimeout(timer);
        resolve({
          kind: 'port',
          target,
          address,
          status,
          latencyMs: status === 'ok' ? Math.round(performance.now() - startedAt) : null,
          ...(message !== undefined && { message }),
        });
      };
      const timer = setTimeout(() => finish('failed', `no connection within ${timeoutMs} ms`), timeoutMs);
      socket.once('connect', () => finish('ok'));
      socket.once('error', (error: NodeJS.ErrnoException) => finish('failed', `connection failed (${error.code ?? error.message})`));
    });
  }

  private async probeEndpoint(endpoint: HealthCheckEndpoint, signal: AbortSignal): Promise<ProbeResult> {
    const target = withoutCredentials(endpoint.url);
    const base = { kind: 'endpoint' as const, target, expectStatus: endpoint.expectStatus };
    const url = new URL(endpoint.url);
    if (!hostAllowed(url, this.config.healthCheckAllowedHosts)) {
      return { ...base, status: 'failed', latencyMs: null, message: `host ${url.host} is not in HEALTHCHECK_ALLOWED_HOSTS` };
    }
    const timeout = AbortSignal.timeout(endpoint.timeoutMs);
    const startedAt = performance.now();
    try {
      // Redirects are reported, not followed: a 30x is what the endpoint answered.
      const response = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.any([signal, timeout]) });
      const latencyMs = Math.round(performance.now() - startedAt);
      await response.body?.cancel();
      const ok = response.status === endpoint.expectStatus;
      return {
        ...base,
        status: ok ? 'ok' : 'failed',
        latencyMs,
        httpStatus: response.status,
        ...(!ok && { message: `answered ${response.status}, expected ${endpoint.expectStatus}` }),
      };
    } catch (error) {
      const message = timeout.aborted
        ? `no answer within ${endpoint.timeoutMs} ms`
        : `request failed (${describeFetchError(error)})`;
      return { ...base, status: 'failed', latencyMs: null, message };
    }
  }
}

function checkContainer(container: ProjectContainer): ContainerCheck {
  const base = { name: container.name, service: container.service, state: container.state, health: container.health };
  if (container.state !== 'running') return { ...base, status: 'failed', message: `not running (${container.state})` };
  switch (container.health) {
    case 'unhealthy':
      return { ...base, status: 'failed', message: 'unhealthy' };
    case 'starting':
      return { ...base, status: 'warning', message: 'health check still starting' };
    case 'healthy':
    case null:
      return { ...base, status: 'ok' };
  }
}

function withoutCredentials(raw: string): string {
  const url = new URL(raw);
  url.username = '';
  url.password = '';
  return url.toString();
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
