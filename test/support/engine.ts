import Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The container engines the engine suite uses, started by `scripts/test-env.sh` (which `npm test`
 * runs): Podman serving the Docker API, a second engine on another socket, a local registry.
 */
export interface TestEngine {
  /** As DOCKER_HOST reads it. */
  host: string;
  docker: Docker;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: the engine tests need the container engine and registry that scripts/test-env.sh starts (npm test runs it)`);
  }
  return value;
}

export function testEngine(): TestEngine {
  const host = required('E2E_DOCKER_HOST');
  return { host, docker: new Docker({ socketPath: host.replace(/^unix:\/\//, '') }) };
}

export function secondTestEngine(): TestEngine {
  const host = required('E2E_SECOND_DOCKER_HOST');
  return { host, docker: new Docker({ socketPath: host.replace(/^unix:\/\//, '') }) };
}

export const registry = (): string => required('E2E_REGISTRY');

/** Built locally by scripts/test-env.sh on every test engine: busybox with its applets. */
export const BASE_IMAGE = 'localhost/busybox:1';

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

export interface ContainerSpec {
  name: string;
  service?: string;
  image?: string;
  cmd?: string[];
  env?: string[];
  labels?: Record<string, string>;
  /** container port → host port, published on 127.0.0.1 only. */
  ports?: Record<number, number>;
  /** A shell test, run only when a test asks (`runHealthcheck`): Podman here has no timer for it. */
  healthcheck?: string;
  binds?: string[];
  restartPolicy?: string;
  start?: boolean;
}

/** A container labelled as part of the Compose project `projectId`. */
export async function createProjectContainer(engine: TestEngine, projectId: string, spec: ContainerSpec) {
  const exposed = Object.fromEntries(Object.keys(spec.ports ?? {}).map((port) => [`${port}/tcp`, {}]));
  const bindings = Object.fromEntries(
    Object.entries(spec.ports ?? {}).map(([port, hostPort]) => [`${port}/tcp`, [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }]]),
  );
  const container = await engine.docker.createContainer({
    name: spec.name,
    Image: spec.image ?? BASE_IMAGE,
    Cmd: spec.cmd ?? ['sleep', '3600'],
    Env: spec.env,
    Labels: {
      'com.docker.compose.project': projectId,
      'com.docker.compose.service': spec.service ?? spec.name,
      ...spec.labels,
    },
    ExposedPorts: exposed,
    ...(spec.healthcheck && {
      Healthcheck: { Test: ['CMD-SHELL', spec.healthcheck], Interval: 3600e9, Timeout: 5e9, Retries: 1 },
    }),
    HostConfig: {
      PortBindings: bindings,
      Binds: spec.binds,
      RestartPolicy: { Name: spec.restartPolicy ?? 'no' },
    },
  });
  if (spec.start !== false) await container.start();
  return container;
}

const execFileAsync = promisify(execFile);

/**
 * Runs a container's HEALTHCHECK once, as the engine's own timer would (these machines have no
 * systemd for Podman's). Resolves with the health state the Docker API then shows.
 */
export async function runHealthcheck(engine: TestEngine, container: string): Promise<string> {
  await execFileAsync('podman', ['--remote', '--url', engine.host, 'healthcheck', 'run', container]).catch(() => undefined);
  const info = await engine.docker.getContainer(container).inspect();
  return info.State.Health?.Status ?? 'none';
}

/** Removes every container of the project (and the named volumes given). */
export async function removeProject(engine: TestEngine, projectId: string, volumes: string[] = []) {
  const containers = await engine.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${projectId}`] } });
  await Promise.all(containers.map((container) => engine.docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined)));
  await Promise.all(volumes.map((volume) => engine.docker.getVolume(volume).remove({ force: true }).catch(() => undefined)));
}

async function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  const events = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => (error ? reject(error) : resolve(output))),
  );
  const failed = events.find((event) => event.error);
  if (failed) throw new Error(failed.error);
}

/**
 * Builds `repository:tag` from the base image plus a shell step and Dockerfile-like `changes`
 * (`CMD [...]`, `ENTRYPOINT [...]`), and pushes it to the test registry so that the engine can
 * pull it like any published image. Returns the image ID.
 */
export async function buildAndPushImage(
  engine: TestEngine,
  reference: string,
  options: { step: string; changes?: string[] },
): Promise<string> {
  const [repository, tag] = splitReference(reference);
  const builder = await engine.docker.createContainer({ Image: BASE_IMAGE, Cmd: ['/bin/sh', '-c', options.step] });
  try {
    await builder.start();
    const { StatusCode } = (await builder.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`image step failed with ${StatusCode}: ${options.step}`);
    const committed = (await builder.commit({ repo: repository, tag, changes: options.changes ?? [] })) as { Id: string };
    // Podman reads `/images/<repo>:<tag>/push?tag=<tag>` as `<repo>:<tag>:<tag>`: push the repository.
    await followProgress(engine.docker, await engine.docker.getImage(repository).push({ tag }));
    return committed.Id.startsWith('sha256:') ? committed.Id : `sha256:${committed.Id}`;
  } finally {
    await builder.remove({ force: true });
  }
}

/** Pulls `reference` onto the engine (as an operator's `docker compose pull` would). */
export async function pullImage(engine: TestEngine, reference: string): Promise<void> {
  await followProgress(engine.docker, await engine.docker.pull(reference));
}

function splitReference(reference: string): [string, string] {
  const at = reference.lastIndexOf(':');
  if (at <= reference.lastIndexOf('/')) return [reference, 'latest'];
  return [reference.slice(0, at), reference.slice(at + 1)];
}
