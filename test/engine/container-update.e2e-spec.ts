import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execInContainer } from '../../src/docker/container-exec';
import { ContainerUpdateExecutor } from '../../src/executors/container-update.executor';
import { Execution } from '../../src/tasks/entities/execution.entity';
import {
  BASE_IMAGE,
  buildAndPushImage,
  createProjectContainer,
  registry,
  removeProject,
  runHealthcheck,
  testEngine,
  uniqueName,
  type ContainerSpec,
  type TestEngine,
} from '../support/engine';
import { createProject, createTask } from '../support/factories';
import { freePort } from '../support/ports';
import { startTestApp, type TestApp } from '../support/test-app';

const SETTLE_SECONDS = 2;
const SECRET_VALUE = 'env-value-that-must-not-be-stored';
const UNREACHABLE = 'unix:///nonexistent.sock';
/** busybox httpd on 8080 serving /www, which each image version fills with its own name. */
const HTTPD = ['httpd', '-f', '-p', '8080', '-h', '/www'];

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('container-update on a real engine', () => {
  let t: TestApp;
  let engine: TestEngine;
  let hostDir: string;
  const projects: string[] = [];
  const volumes: string[] = [];
  const networks: string[] = [];
  const images: string[] = [];

  /** Publishes `repository:tag` with its own CMD (else the build step would be its default command). */
  const publish = async (repository: string, tag: string, step: string, changes: string[] = []): Promise<string> => {
    const id = await buildAndPushImage(engine, `${repository}:${tag}`, { step, changes: [`CMD ${JSON.stringify(HTTPD)}`, ...changes] });
    images.push(id);
    return id;
  };

  /** A repository of its own with v1 (what the containers start on) published as `tag`. */
  const repositoryWithV1 = async (tag = 'stable', extraStep = '', changes: string[] = []) => {
    const repository = `${registry()}/${uniqueName('cu')}`;
    const v1 = await publish(repository, tag, `mkdir -p /www && echo v1 > /www/index.html ${extraStep}`, changes);
    return { repository, reference: `${repository}:${tag}`, v1 };
  };

  const projectWith = async (...containers: ContainerSpec[]) => {
    const project = await createProject(t.api);
    projects.push(project.id);
    for (const spec of containers) await createProjectContainer(engine, project.id, spec);
    return project.id;
  };

  const updateTask = (projectId: string, config: { pullImages?: boolean; restartAfterUpdate?: boolean } = {}, extra: Record<string, unknown> = {}) =>
    createTask(t.api, projectId, {
      type: 'container-update',
      cronExpression: '0 0 1 1 *',
      containerUpdateConfig: { pullImages: true, restartAfterUpdate: true, ...config },
      ...extra,
    });

  const run = async (taskId: string) => {
    const response = await t.api.post(`/api/v1/tasks/${taskId}/run`);
    expect(response.status).toBe(200);
    return response.body.execution as Record<string, any>;
  };

  const inspect = (name: string) => engine.docker.getContainer(name).inspect();
  const exists = (name: string) => inspect(name).then(
    () => true,
    (error: { statusCode?: number }) => (error.statusCode === 404 ? false : Promise.reject(error)),
  );
  const projectContainerNames = async (projectId: string) =>
    (await engine.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${projectId}`] } }))
      .map((container) => container.Names[0].replace(/^\//, ''))
      .sort();

  const shell = async (name: string, command: string) => {
    const result = await execInContainer(engine.docker.getContainer(name), command, {
      signal: new AbortController().signal,
      timeoutSeconds: 10,
      outputLimitBytes: 10_000,
    });
    expect(result.exitCode).toBe(0);
    return result.stdout.trim();
  };

  /** Runs the container's HEALTHCHECK over and over (Podman has no timer for it here) until stopped. */
  const driveHealthchecks = (name: string) => {
    let running = true;
    const loop = (async () => {
      while (running) {
        // Between the rename and the create, nothing has the name: that is fine.
        await runHealthcheck(engine, name).catch(() => undefined);
        await sleep(200);
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  };

  /** What must survive an update, in a form that compares across containers. */
  const configurationOf = (info: Docker.ContainerInspectInfo) => ({
    name: info.Name,
    // Podman writes the (generated) hostname into the environment.
    env: info.Config.Env.filter((entry) => !entry.startsWith('HOSTNAME=')).sort(),
    labels: info.Config.Labels,
    cmd: info.Config.Cmd,
    mounts: info.Mounts.map((mount) => ({
      type: mount.Type,
      name: mount.Name ?? null,
      source: mount.Type === 'bind' ? mount.Source : null,
      destination: mount.Destination,
      rw: mount.RW,
    })).sort((a, b) => a.destination.localeCompare(b.destination)),
    ports: info.HostConfig.PortBindings as unknown,
    restartPolicy: info.HostConfig.RestartPolicy?.Name,
    networks: Object.keys(info.NetworkSettings.Networks).sort(),
  });

  beforeAll(async () => {
    engine = testEngine();
    hostDir = mkdtempSync(join(tmpdir(), 'cu-bind-'));
    writeFileSync(join(hostDir, 'from-host'), 'host file');
    t = await startTestApp({ DOCKER_HOST: engine.host, CONTAINER_UPDATE_SETTLE_SECONDS: String(SETTLE_SECONDS) });
  });

  afterAll(async () => {
    await t?.close();
    for (const project of projects) {
      // Anonymous volumes (the images' VOLUME) outlive their containers unless removed by name.
      const containers = await engine.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });
      for (const container of containers) {
        for (const mount of container.Mounts) if (mount.Type === 'volume' && mount.Name) volumes.push(mount.Name);
      }
      await removeProject(engine, project);
    }
    for (const volume of volumes) await engine.docker.getVolume(volume).remove({ force: true }).catch(() => undefined);
    for (const image of images) await engine.docker.getImage(image).remove({ force: true }).catch(() => undefined);
    for (const network of networks) await engine.docker.getNetwork(network).remove().catch(() => undefined);
    rmSync(hostDir, { recursive: true, force: true });
  });

  it('updates v1 → v2 keeping name, env, labels, mounts, networks, ports, restart policy and command; keeps the old image', async () => {
    const image = await repositoryWithV1('stable', '&& echo 1 > /version', ['ENV IMAGE_VERSION=1', 'LABEL org.example.version=1', 'VOLUME /cache']);
    const port = await freePort();
    const project = await createProject(t.api);
    projects.push(project.id);
    const name = `${project.id}-web`;
    const volume = `${project.id}-data`;
    const network = `${project.id}-net`;
    volumes.push(volume);
    networks.push(network);
    await engine.docker.createNetwork({ Name: network });
    await createProjectContainer(engine, project.id, {
      name,
      service: 'web',
      image: image.reference,
      cmd: HTTPD,
      env: ['APP_MODE=production', `APP_TOKEN=${SECRET_VALUE}`],
      labels: { 'com.example.tier': 'front' },
      ports: { 8080: port },
      binds: [`${volume}:/data`, `${hostDir}:/host:ro`],
      restartPolicy: 'unless-stopped',
      start: false,
    });
    await engine.docker.getNetwork(network).connect({ Container: name, EndpointConfig: { Aliases: ['web-alias'] } });
    await engine.docker.getContainer(name).start();
    await shell(name, 'echo kept > /data/file && echo anonymous > /cache/file');
    const before = await inspect(name);
    expect(before.Config.Env).toContain('IMAGE_VERSION=1');

    const v2 = await publish(image.repository, 'stable', 'mkdir -p /www && echo v2 > /www/index.html', [
      'ENV IMAGE_VERSION=2',
      'LABEL org.example.version=2',
      'VOLUME /cache',
    ]);
    const task = await updateTask(project.id);
    const execution = await run(task.id);

    expect(execution.status).toBe('success');
    expect(execution.result).toMatchObject({ updated: 1, upToDate: 0, failed: 0, rolledBack: 0 });
    expect(execution.result.containers).toEqual([
      { name, image: image.reference, status: 'updated', oldImageId: image.v1, newImageId: v2 },
    ]);
    expect(JSON.stringify(execution)).not.toContain(SECRET_VALUE);

    const after = await inspect(name);
    expect(after.Id).not.toBe(before.Id);
    expect(after.Image).toBe(v2);
    // The container's own settings stay; what came from the old image's defaults follows the new image.
    const expected = configurationOf(before);
    expected.env = expected.env.map((entry) => (entry === 'IMAGE_VERSION=1' ? 'IMAGE_VERSION=2' : entry));
    expected.labels = { ...expected.labels, 'org.example.version': '2' };
    expect(configurationOf(after)).toEqual(expected);
    expect(after.NetworkSettings.Networks[network].Aliases).toContain('web-alias');
    expect(after.NetworkSettings.Networks[network].Aliases).not.toContain(before.Id.slice(0, 12));
    expect(after.Config.Hostname).not.toBe(before.Config.Hostname);
    expect(after.State.Running).toBe(true);

    expect(await shell(name, 'cat /data/file /cache/file /host/from-host')).toBe('kept\nanonymous\nhost file');
    expect(await (await fetch(`http://127.0.0.1:${port}/index.html`)).text()).toBe('v2\n');
    expect((await engine.docker.getImage(image.v1).inspect()).Id).toBe(image.v1);
    expect(await exists(before.Id)).toBe(false);
    expect(await projectContainerNames(project.id)).toEqual([name]);
    const stored = await t.app.get(DataSource).getRepository(Execution).findOneBy({ id: execution.id });
    expect(stored?.touchedContainers).toEqual([name]);
  });

  it('rolls back a new version that does not start: the old container runs again under its name', async () => {
    const image = await repositoryWithV1();
    const name = uniqueName('app');
    const untouched = uniqueName('other');
    const other = await repositoryWithV1();
    const projectId = await projectWith({ name, image: image.reference }, { name: untouched, image: other.reference });
    const before = await inspect(name);
    await publish(image.repository, 'stable', 'true', ['ENTRYPOINT ["/bin/false"]']);

    const execution = await run((await updateTask(projectId)).id);

    expect(execution.status).toBe('failed');
    expect(execution.error).toContain(name);
    expect(execution.error).toContain('rolled back');
    expect(execution.result).toMatchObject({ rolledBack: 1, upToDate: 1 });
    const report = execution.result.containers.find((entry: { name: string }) => entry.name === name);
    expect(report).toMatchObject({ status: 'rolled-back', oldImageId: image.v1 });
    expect(report.message).toMatch(/stopped within 2 s.*rolled back to the old image/);
    const after = await inspect(name);
    expect(after.Id).toBe(before.Id);
    expect(after.Image).toBe(image.v1);
    expect(after.State.Running).toBe(true);
    expect(await projectContainerNames(projectId)).toEqual([name, untouched].sort());
  });

  it('rolls back a new version whose healthcheck fails, and updates one whose healthcheck passes', async () => {
    const healthcheck = 'test -f /www/healthy';
    const failing = await repositoryWithV1('stable', '&& touch /www/healthy');
    const passing = await repositoryWithV1('stable', '&& touch /www/healthy');
    const sick = uniqueName('sick');
    const fine = uniqueName('fine');
    const projectId = await projectWith(
      { name: sick, image: failing.reference, cmd: HTTPD, healthcheck },
      { name: fine, image: passing.reference, cmd: HTTPD, healthcheck },
    );
    const sickBefore = await inspect(sick);
    await publish(failing.repository, 'stable', 'mkdir -p /www && echo v2 > /www/index.html');
    const passingV2 = await publish(passing.repository, 'stable', 'mkdir -p /www && echo v2 > /www/index.html && touch /www/healthy');

    const stops = [driveHealthchecks(sick), driveHealthchecks(fine)];
    const execution = await run((await updateTask(projectId)).id).finally(() => Promise.all(stops.map((stop) => stop())));

    expect(execution.status).toBe('failed');
    expect(execution.error).toContain(sick);
    expect(execution.error).not.toContain(fine);
    const byName = Object.fromEntries(execution.result.containers.map((entry: { name: string }) => [entry.name, entry]));
    expect(byName[sick]).toMatchObject({ status: 'rolled-back', message: expect.stringContaining('became unhealthy') });
    expect(byName[fine]).toMatchObject({ status: 'updated', oldImageId: passing.v1, newImageId: passingV2 });
    const sickAfter = await inspect(sick);
    expect(sickAfter).toMatchObject({ Id: sickBefore.Id, Image: failing.v1, State: { Running: true } });
    expect((await inspect(fine)).Image).toBe(passingV2);
    expect((await inspect(fine)).Config.Healthcheck?.Test).toEqual(['CMD-SHELL', healthcheck]);
  });

  it('reports up-to-date, digest-pinned and stopped containers without touching them', async () => {
    const image = await repositoryWithV1();
    const pulled = await engine.docker.getImage(image.reference).inspect();
    const pinnedReference = pulled.RepoDigests.find((digest) => digest.startsWith(`${image.repository}@sha256:`));
    expect(pinnedReference).toBeDefined();
    const current = uniqueName('current');
    const pinned = uniqueName('pinned');
    const stopped = uniqueName('stopped');
    const projectId = await projectWith({ name: current, image: image.reference }, { name: stopped, image: image.reference, start: false });
    // Podman 4.3's Docker API stores the tag instead of a digest it is given; its own CLI (as podman-compose uses) keeps it.
    await execFileAsync('podman', [
      ...['--remote', '--url', engine.host, 'run', '--detach', '--name', pinned],
      ...['--label', `com.docker.compose.project=${projectId}`, '--label', `com.docker.compose.service=${pinned}`],
      ...[pinnedReference!, 'sleep', '3600'],
    ]);
    const ids = await Promise.all([current, pinned, stopped].map(async (name) => (await inspect(name)).Id));

    const execution = await run((await updateTask(projectId)).id);

    expect(execution.status).toBe('success');
    expect(execution.result).toMatchObject({ updated: 0, upToDate: 1, skipped: 2, failed: 0 });
    expect(execution.result.containers).toEqual(
      expect.arrayContaining([
        { name: current, image: image.reference, status: 'up-to-date', oldImageId: image.v1, newImageId: image.v1 },
        { name: pinned, image: pinnedReference, status: 'skipped', oldImageId: image.v1, newImageId: null, message: 'pinned by digest' },
        { name: stopped, image: image.reference, status: 'skipped', oldImageId: image.v1, newImageId: null, message: 'not running (created)' },
      ]),
    );
    expect(await Promise.all([current, pinned, stopped].map(async (name) => (await inspect(name)).Id))).toEqual(ids);
    const stored = await t.app.get(DataSource).getRepository(Execution).findOneBy({ id: execution.id });
    expect(stored?.touchedContainers).toBeNull();
  });

  it('without restartAfterUpdate only pulls and reports update-available', async () => {
    const image = await repositoryWithV1();
    const name = uniqueName('app');
    const projectId = await projectWith({ name, image: image.reference });
    const before = await inspect(name);
    const v2 = await publish(image.repository, 'stable', 'mkdir -p /www && echo v2 > /www/index.html');

    const execution = await run((await updateTask(projectId, { restartAfterUpdate: false })).id);

    expect(execution.status).toBe('success');
    expect(execution.result).toMatchObject({ updateAvailable: 1, updated: 0 });
    expect(execution.result.containers).toEqual([
      { name, image: image.reference, status: 'update-available', oldImageId: image.v1, newImageId: v2 },
    ]);
    const after = await inspect(name);
    expect(after).toMatchObject({ Id: before.Id, Image: image.v1, State: { Running: true, StartedAt: before.State.StartedAt } });
    // The pull happened: the tag now names v2 on the engine.
    expect((await engine.docker.getImage(image.reference).inspect()).Id).toBe(v2);
  });

  it('fails the container whose image cannot be pulled, and still processes the others', async () => {
    const image = await repositoryWithV1();
    const missing = uniqueName('missing');
    const fine = uniqueName('fine');
    // Built here, never pushed: the registry does not know it.
    const localRepository = `${registry()}/${uniqueName('cu-local')}`;
    const local = `${localRepository}:stable`;
    const builder = await engine.docker.createContainer({ Image: BASE_IMAGE, Cmd: ['true'] });
    images.push(((await builder.commit({ repo: localRepository, tag: 'stable' })) as { Id: string }).Id);
    await builder.remove({ force: true });
    const projectId = await projectWith({ name: missing, image: local }, { name: fine, image: image.reference });

    const execution = await run((await updateTask(projectId)).id);

    expect(execution.status).toBe('failed');
    expect(execution.error).toMatch(new RegExp(`^Update failed for 1 container\\(s\\): ${missing} \\(failed: pull failed: `));
    expect(execution.result).toMatchObject({ failed: 1, upToDate: 1 });
  });

  it('an unreachable engine fails the run naming the engine; the service keeps answering', async () => {
    const project = await createProject(t.api, { dockerHost: UNREACHABLE });
    const execution = await run((await updateTask(project.id)).id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toBe(`Container engine unavailable: cannot reach the container engine at ${UNREACHABLE} (ENOENT)`);
    expect((await t.api.get('/health')).status).toBe(200);
  });

  it('a cancel while the new container is checked rolls it back before the run ends', async () => {
    const image = await repositoryWithV1('stable', '&& touch /www/healthy');
    const name = uniqueName('slow');
    // Nobody runs the healthcheck: the new container stays `starting` until the cancel.
    const projectId = await projectWith({ name, image: image.reference, cmd: HTTPD, healthcheck: 'test -f /www/healthy' });
    const before = await inspect(name);
    await publish(image.repository, 'stable', 'mkdir -p /www && touch /www/healthy');
    const task = await updateTask(projectId);

    const started = await t.api.post(`/api/v1/tasks/${task.id}/run?wait=false`);
    expect(started.status).toBe(202);
    await expect.poll(async () => (await inspect(name).catch(() => before)).Id !== before.Id, { timeout: 20_000, interval: 200 }).toBe(true);
    const cancelled = await t.api.post(`/api/v1/tasks/${task.id}/executions/${started.body.execution.id}/cancel`);

    expect(cancelled.status).toBe(200);
    expect(cancelled.body.execution.status).toBe('cancelled');
    const detail = (await t.api.get(`/api/v1/tasks/${task.id}/executions/${started.body.execution.id}`)).body;
    expect(detail.result.containers[0]).toMatchObject({
      name,
      status: 'rolled-back',
      message: 'the run was cancelled; rolled back to the old image',
    });
    expect(await inspect(name)).toMatchObject({ Id: before.Id, Image: image.v1, State: { Running: true } });
    expect(await projectContainerNames(projectId)).toEqual([name]);
  });

  it('rolls back a new container that is not healthy in time, leaving room in the run timeout to do so', async () => {
    const image = await repositoryWithV1('stable', '&& touch /www/healthy');
    const name = uniqueName('starting');
    // Nobody runs the healthcheck: the new container stays `starting`.
    const projectId = await projectWith({ name, image: image.reference, cmd: HTTPD, healthcheck: 'test -f /www/healthy' });
    const before = await inspect(name);
    await publish(image.repository, 'stable', 'mkdir -p /www && touch /www/healthy');

    const execution = await run((await updateTask(projectId, {}, { timeoutSeconds: 10 })).id);

    expect(execution.status).toBe('failed');
    expect(execution.result.containers[0]).toMatchObject({
      status: 'rolled-back',
      message: 'the new container was not healthy in time (starting); rolled back to the old image',
    });
    expect(await inspect(name)).toMatchObject({ Id: before.Id, Image: image.v1, State: { Running: true } });
  });

  it('repair puts the old container back after a crash, idempotently; the next run does it too', async () => {
    const image = await repositoryWithV1();
    const name = uniqueName('crashed');
    const projectId = await projectWith({ name, image: image.reference });
    const old = await inspect(name);
    const v2 = await publish(image.repository, 'stable', 'mkdir -p /www && echo v2 > /www/index.html');
    const executor = t.app.get(ContainerUpdateExecutor);

    /** What a run that died between creating the new container and checking it leaves behind. */
    const crashMidUpdate = async () => {
      await engine.docker.getContainer(old.Id).rename({ name: `${name}-dts-rollback` });
      await engine.docker.getContainer(old.Id).stop();
      // The tag already names v2 on the engine (it was built here).
      await createProjectContainer(engine, projectId, { name, image: image.reference });
    };

    await crashMidUpdate();
    await executor.repair(projectId, [name]);
    expect(await inspect(name)).toMatchObject({ Id: old.Id, Image: image.v1, State: { Running: true } });
    expect(await projectContainerNames(projectId)).toEqual([name]);
    // Nothing left to do: repairing again changes nothing.
    const { StartedAt } = (await inspect(name)).State;
    await executor.repair(projectId, [name]);
    expect(await inspect(name)).toMatchObject({ Id: old.Id, State: { Running: true, StartedAt } });

    // A crash right after the rename: only the stopped backup exists.
    await engine.docker.getContainer(old.Id).rename({ name: `${name}-dts-rollback` });
    await engine.docker.getContainer(old.Id).stop();
    await executor.repair(projectId, [name]);
    expect(await inspect(name)).toMatchObject({ Id: old.Id, State: { Running: true } });

    // A leftover backup that no repair reached is put back by the next run, which then updates.
    await crashMidUpdate();
    const execution = await run((await updateTask(projectId)).id);
    expect(execution.status).toBe('success');
    expect(execution.result).toMatchObject({ recoveredFromInterruptedUpdate: [name], updated: 1 });
    expect(execution.result.containers).toEqual([{ name, image: image.reference, status: 'updated', oldImageId: image.v1, newImageId: v2 }]);
    expect((await inspect(name)).Image).toBe(v2);
    expect(await projectContainerNames(projectId)).toEqual([name]);
  });
});
