import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE,
  createProjectContainer,
  removeProject,
  runHealthcheck,
  secondTestEngine,
  testEngine,
  uniqueName,
  type TestEngine,
} from '../support/engine';
import { createApiKey, createProject, createTask } from '../support/factories';
import { freePort } from '../support/ports';
import { startTestApp, type TestApp } from '../support/test-app';
import { ApiClient } from '../support/api-client';

const UNREACHABLE = 'unix:///nonexistent/engine.sock';

describe('engine access', () => {
  let t: TestApp;
  let engine: TestEngine;
  let second: TestEngine;
  const projects: Array<[TestEngine, string]> = [];

  beforeAll(async () => {
    engine = testEngine();
    second = secondTestEngine();
    t = await startTestApp({ DOCKER_HOST: engine.host });
  });

  afterAll(async () => {
    await t?.close();
    for (const [on, project] of projects) await removeProject(on, project);
  });

  it("lists a project's containers live, with state, health, image and ports", async () => {
    const project = await createProject(t.api);
    projects.push([engine, project.id]);
    const port = await freePort();
    const web = uniqueName('web');
    const old = uniqueName('old');
    await createProjectContainer(engine, project.id, { name: web, service: 'web', ports: { 8080: port }, healthcheck: 'true' });
    await createProjectContainer(engine, project.id, { name: old, service: 'migrate', start: false });
    // Another project's container on the same engine is not listed.
    const other = uniqueName('other');
    projects.push([engine, other]);
    await createProjectContainer(engine, other, { name: uniqueName('elsewhere') });
    await runHealthcheck(engine, web);

    const response = await t.api.get(`/api/v1/projects/${project.id}/containers`);
    expect(response.status).toBe(200);
    const image = await engine.docker.getImage(BASE_IMAGE).inspect();
    expect(response.body).toEqual({
      projectId: project.id,
      containers: [
        {
          name: old,
          id: expect.stringMatching(/^[0-9a-f]{64}$/),
          service: 'migrate',
          image: BASE_IMAGE,
          imageId: image.Id.startsWith('sha256:') ? image.Id : `sha256:${image.Id}`,
          state: 'created',
          health: null,
          ports: [],
        },
        {
          name: web,
          id: expect.stringMatching(/^[0-9a-f]{64}$/),
          service: 'web',
          image: BASE_IMAGE,
          imageId: expect.stringMatching(/^sha256:/),
          state: 'running',
          health: 'healthy',
          ports: [{ containerPort: 8080, protocol: 'tcp', hostPort: port, hostIp: '127.0.0.1' }],
        },
      ],
    });
  });

  it('scopes the listing like the project itself: 404 outside a key’s projects, 403 without projects:read', async () => {
    const project = await createProject(t.api);
    const elsewhere = await createProject(t.api);
    const scoped = await createApiKey(t.api, ['projects:read'], { projectIds: [elsewhere.id] });
    const writer = await createApiKey(t.api, ['tasks:read']);
    const asScoped = new ApiClient(t.api.baseUrl, scoped.key);
    expect((await asScoped.get(`/api/v1/projects/${project.id}/containers`)).status).toBe(404);
    expect((await asScoped.get(`/api/v1/projects/${elsewhere.id}/containers`)).status).toBe(200);
    expect((await new ApiClient(t.api.baseUrl, writer.key).get(`/api/v1/projects/${project.id}/containers`)).status).toBe(403);
    expect((await t.api.get('/api/v1/projects/no-such-project/containers')).body).toEqual({ success: false, error: 'Project not found' });
  });

  it('puts a project with its own dockerHost on that engine', async () => {
    const project = await createProject(t.api, { dockerHost: second.host });
    projects.push([second, project.id]);
    const onSecond = uniqueName('second');
    await createProjectContainer(second, project.id, { name: onSecond });
    // The same project name on the default engine must not be what is seen.
    projects.push([engine, project.id]);
    await createProjectContainer(engine, project.id, { name: uniqueName('first') });

    const listed = await t.api.get(`/api/v1/projects/${project.id}/containers`);
    expect(listed.body.containers.map((c: { name: string }) => c.name)).toEqual([onSecond]);

    const task = await createTask(t.api, project.id, {
      type: 'custom',
      customConfig: { command: 'hostname', container: onSecond },
    });
    const run = await t.api.post(`/api/v1/tasks/${task.id}/run`);
    expect(run.body.execution).toMatchObject({ status: 'success', result: { container: onSecond } });
  });

  it('an unreachable engine: a clear 503 on listing, a failed run naming it, the service unharmed', async () => {
    const project = await createProject(t.api, { dockerHost: UNREACHABLE });
    const listed = await t.api.get(`/api/v1/projects/${project.id}/containers`);
    expect(listed.status).toBe(503);
    expect(listed.body).toEqual({
      success: false,
      error: 'Container engine unavailable',
      details: `cannot reach the container engine at ${UNREACHABLE} (ENOENT)`,
    });

    for (const [type, config] of [
      ['health-check', { healthCheckConfig: { checkContainers: true } }],
      ['container-update', { containerUpdateConfig: { pullImages: true, restartAfterUpdate: true } }],
      ['custom', { customConfig: { command: 'true', container: 'web' } }],
    ] as const) {
      const task = await createTask(t.api, project.id, { type, ...config });
      const run = await t.api.post(`/api/v1/tasks/${task.id}/run`);
      expect(run.status).toBe(200);
      expect(run.body.execution.status).toBe('failed');
      expect(run.body.execution.error).toContain(`cannot reach the container engine at ${UNREACHABLE}`);
    }
    expect((await t.api.get('/health')).status).toBe(200);
    expect((await t.api.get(`/api/v1/projects/${project.id}`)).status).toBe(200);
  });

  it('readiness reports the default engine', async () => {
    const ready = await t.api.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', checks: { database: { status: 'up' }, engine: { status: 'up' } } });
  });
});

describe('readiness without an engine', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DOCKER_HOST: UNREACHABLE });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('stays ready (the API works) but says the engine is down and why', async () => {
    const ready = await t.api.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      checks: {
        database: { status: 'up' },
        engine: { status: 'down', message: `cannot reach the container engine at ${UNREACHABLE} (ENOENT)` },
      },
    });
  });
});
