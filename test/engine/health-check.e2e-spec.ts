import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectContainer, removeProject, runHealthcheck, testEngine, uniqueName, type TestEngine } from '../support/engine';
import { createProject, createTask } from '../support/factories';
import { freePort } from '../support/ports';
import { startTestApp, type TestApp } from '../support/test-app';
import { startWebhook, type TestWebhook } from '../support/webhook';

const BODY_MARKER = 'body-that-must-not-be-stored';

/** busybox httpd serving one page on 8080, and the marker as its body. */
const webServer = ['/bin/sh', '-c', `mkdir -p /www && echo ${BODY_MARKER} > /www/index.html && exec httpd -f -p 8080 -h /www`];

describe('health-check on a real engine', () => {
  let t: TestApp;
  let engine: TestEngine;
  let webhook: TestWebhook;
  let silentServer: Server;
  let silentPort: number;
  const projects: string[] = [];

  const run = async (taskId: string) => {
    const response = await t.api.post(`/api/v1/tasks/${taskId}/run`);
    expect(response.status).toBe(200);
    return response.body.execution as Record<string, any>;
  };

  /** A project on the test engine with the given containers. */
  const projectWith = async (...containers: Array<Parameters<typeof createProjectContainer>[2]>) => {
    const project = await createProject(t.api);
    projects.push(project.id);
    for (const spec of containers) await createProjectContainer(engine, project.id, spec);
    return project.id;
  };

  beforeAll(async () => {
    engine = testEngine();
    webhook = await startWebhook();
    // Accepts connections and never answers: an endpoint that times out.
    silentServer = createServer(() => undefined);
    silentPort = await freePort();
    await new Promise<void>((resolve) => silentServer.listen(silentPort, '127.0.0.1', resolve));
    t = await startTestApp({ DOCKER_HOST: engine.host, ALERT_WEBHOOK_URL: webhook.url, HEALTHCHECK_PORT_TIMEOUT_MS: '1500' });
  });

  afterAll(async () => {
    await t?.close();
    await webhook?.close();
    silentServer?.closeAllConnections();
    silentServer?.close();
    for (const project of projects) await removeProject(engine, project);
  });

  it('passes a healthy project, naming each container and probe with its latency, never storing bodies', async () => {
    const port = await freePort();
    const web = uniqueName('web');
    const projectId = await projectWith(
      { name: web, service: 'web', cmd: webServer, ports: { 8080: port }, healthcheck: 'wget -q -O /dev/null http://127.0.0.1:8080/' },
      { name: uniqueName('worker'), service: 'worker' },
    );
    await expect.poll(() => runHealthcheck(engine, web), { timeout: 10_000 }).toBe('healthy');
    const task = await createTask(t.api, projectId, {
      healthCheckConfig: {
        checkContainers: true,
        checkConnectivity: true,
        alertOnFailure: true,
        endpoints: [{ url: `http://127.0.0.1:${port}/index.html`, expectStatus: 200, timeoutMs: 3000 }],
      },
    });

    const execution = await run(task.id);
    expect(execution.status).toBe('success');
    const result = execution.result;
    expect(result.healthy).toBe(true);
    expect(result.containers.map((c: { name: string }) => c.name)).toEqual([web, expect.stringMatching(/^worker-/)]);
    expect(result.containers.find((c: { name: string }) => c.name === web)).toMatchObject({ state: 'running', health: 'healthy', status: 'ok' });
    expect(result.probes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'port', target: `${web}:8080/tcp`, address: `127.0.0.1:${port}`, status: 'ok', latencyMs: expect.any(Number) }),
        expect.objectContaining({ kind: 'endpoint', status: 'ok', httpStatus: 200, latencyMs: expect.any(Number) }),
      ]),
    );
    const stored = await t.api.get(`/api/v1/tasks/${task.id}/executions/${execution.id}`);
    expect(JSON.stringify(stored.body)).not.toContain(BODY_MARKER);
    // Healthy from the start: nothing to recover from, no alert.
    expect(webhook.received.filter((alert) => alert.task.id === task.id)).toEqual([]);
  });

  it('fails for a stopped container, alerts, and announces the first success after it once', async () => {
    const db = uniqueName('db');
    const projectId = await projectWith({ name: db, service: 'db' });
    const task = await createTask(t.api, projectId, {
      healthCheckConfig: { checkContainers: true, checkConnectivity: false, alertOnFailure: true },
    });
    await engine.docker.getContainer(db).stop({ t: 0 });

    const failed = await run(task.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(`container ${db}: not running (exited)`);
    const alert = await webhook.waitFor((a) => a.task.id === task.id && a.event === 'health-check.failed');
    expect(alert).toMatchObject({ task: { projectId, type: 'health-check' }, execution: { id: failed.id, status: 'failed' } });
    expect(alert.details?.problems).toEqual([expect.stringContaining(db)]);

    await engine.docker.getContainer(db).start();
    expect((await run(task.id)).status).toBe('success');
    await webhook.waitFor((a) => a.task.id === task.id && a.event === 'health-check.recovered');
    expect((await run(task.id)).status).toBe('success');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(webhook.received.filter((a) => a.task.id === task.id).map((a) => a.event)).toEqual([
      'health-check.failed',
      'health-check.recovered',
    ]);
  });

  it('fails an unhealthy container and only warns about one whose health check is starting', async () => {
    const sick = uniqueName('sick');
    const fresh = uniqueName('fresh');
    const projectId = await projectWith(
      { name: sick, healthcheck: 'test -f /tmp/never-there' },
      { name: fresh, healthcheck: 'true' },
    );
    await expect.poll(() => runHealthcheck(engine, sick), { timeout: 10_000 }).toBe('unhealthy');
    const task = await createTask(t.api, projectId, {
      healthCheckConfig: { checkContainers: true, checkConnectivity: false, alertOnFailure: false },
    });
    const execution = await run(task.id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toBe(`container ${sick}: unhealthy`);
    expect(execution.result.containers.find((c: { name: string }) => c.name === fresh)).toMatchObject({ health: 'starting', status: 'warning' });
    expect(execution.result.warnings).toEqual([`container ${fresh}: health check still starting`]);

    // Only the warning left: a success that still says so.
    await engine.docker.getContainer(sick).remove({ force: true });
    const warned = await run(task.id);
    expect(warned.status).toBe('success');
    expect(warned.result.warnings).toHaveLength(1);
  });

  it('fails a published port that does not answer, an unexpected status and an endpoint that times out', async () => {
    const answering = await freePort();
    const deaf = await freePort();
    const web = uniqueName('web');
    const mute = uniqueName('mute');
    const projectId = await projectWith(
      { name: web, cmd: webServer, ports: { 8080: answering } },
      // Published, but nothing listens inside the container.
      { name: mute, ports: { 9090: deaf } },
    );
    const task = await createTask(t.api, projectId, {
      healthCheckConfig: {
        checkContainers: true,
        checkConnectivity: true,
        alertOnFailure: false,
        endpoints: [
          { url: `http://127.0.0.1:${answering}/missing`, expectStatus: 200 },
          { url: `http://127.0.0.1:${answering}/missing`, expectStatus: 404 },
          { url: `http://127.0.0.1:${silentPort}/slow`, timeoutMs: 700 },
        ],
      },
    });
    const execution = await run(task.id);
    expect(execution.status).toBe('failed');
    const byTarget = (target: string) => execution.result.probes.filter((p: { target: string }) => p.target.includes(target));
    expect(byTarget(`${web}:8080/tcp`)[0]).toMatchObject({ status: 'ok' });
    expect(byTarget(`${mute}:9090/tcp`)[0]).toMatchObject({ status: 'failed', latencyMs: null });
    expect(byTarget('/missing')).toEqual([
      expect.objectContaining({ status: 'failed', httpStatus: 404, expectStatus: 200, message: 'answered 404, expected 200' }),
      expect.objectContaining({ status: 'ok', httpStatus: 404, expectStatus: 404 }),
    ]);
    expect(byTarget('/slow')[0]).toMatchObject({ status: 'failed', message: 'no answer within 700 ms' });
    expect(execution.error).toMatch(/^3 problems: /);
    expect(execution.error).toContain(`port ${mute}:9090/tcp`);
  });

  it('fails a project without containers, saying which label it looked for', async () => {
    const project = await createProject(t.api);
    const task = await createTask(t.api, project.id, { healthCheckConfig: { checkContainers: true, alertOnFailure: false } });
    const execution = await run(task.id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toContain(`no containers labelled com.docker.compose.project=${project.id}`);
  });

  it('records the check as it was when the webhook is down', async () => {
    const projectId = await projectWith({ name: uniqueName('app') });
    await engine.docker.getContainer((await engine.docker.listContainers({ filters: { label: [`com.docker.compose.project=${projectId}`] } }))[0].Id).stop({ t: 0 });
    const task = await createTask(t.api, projectId, { healthCheckConfig: { checkContainers: true, alertOnFailure: true } });
    webhook.failWith = 503;
    try {
      const execution = await run(task.id);
      expect(execution.status).toBe('failed');
      expect(execution.error).toContain('not running');
      const listed = await t.api.get(`/api/v1/tasks/${task.id}`);
      expect(listed.body.lastStatus).toBe('failed');
    } finally {
      webhook.failWith = null;
    }
  });
});

describe('HEALTHCHECK_ALLOWED_HOSTS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DOCKER_HOST: testEngine().host, HEALTHCHECK_ALLOWED_HOSTS: '127.0.0.1,*.internal.example' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses endpoints on other hosts when the task is saved, naming the field', async () => {
    const project = await createProject(t.api);
    const response = await t.api.post('/api/v1/tasks', {
      name: 'probe elsewhere',
      type: 'health-check',
      projectId: project.id,
      cronExpression: '*/5 * * * *',
      healthCheckConfig: { endpoints: [{ url: 'http://127.0.0.1:1/ok' }, { url: 'https://metadata.other.example/latest' }] },
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      success: false,
      error: 'Validation failed',
      details: [{ field: 'healthCheckConfig.endpoints.1.url', message: 'host metadata.other.example is not allowed on this server (HEALTHCHECK_ALLOWED_HOSTS)' }],
    });
    const allowed = await t.api.post('/api/v1/tasks', {
      name: 'probe here',
      type: 'health-check',
      projectId: project.id,
      cronExpression: '*/5 * * * *',
      healthCheckConfig: { endpoints: [{ url: 'http://127.0.0.1:1/ok' }, { url: 'https://api.internal.example/health' }] },
    });
    expect(allowed.status).toBe(201);
  });
});
