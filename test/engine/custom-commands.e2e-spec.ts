import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectContainer, removeProject, testEngine, uniqueName, type TestEngine } from '../support/engine';
import { createProject, createTask } from '../support/factories';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';
import { startWebhook, type TestWebhook } from '../support/webhook';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const S3_SECRET = 'wJalrXUtnFEMI-s3-secret-value-for-tests';

describe('custom commands in a container and on the host', () => {
  let t: TestApp;
  let engine: TestEngine;
  let webhook: TestWebhook;
  let projectId: string;
  let app: string;

  const customTask = (command: string, extra: Record<string, unknown> = {}) =>
    createTask(t.api, projectId, { type: 'custom', customConfig: { command, container: app }, ...extra });
  /** Runs the task and reads the execution back with its captured output. */
  const run = async (taskId: string) => {
    const { execution } = (await t.api.post(`/api/v1/tasks/${taskId}/run`)).body as { execution: { id: string } };
    return (await t.api.get(`/api/v1/tasks/${taskId}/executions/${execution.id}`)).body as Record<string, any>;
  };
  /** Processes in the container whose command line has `marker`. */
  const processesWith = async (marker: string) => {
    const exec = await engine.docker.getContainer(app).exec({ Cmd: ['ps', '-o', 'pid,args'], AttachStdout: true });
    const stream = await exec.start({});
    let out = '';
    stream.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
    await new Promise((resolve) => stream.on('end', resolve));
    return out.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -o'));
  };

  beforeAll(async () => {
    engine = testEngine();
    webhook = await startWebhook();
    t = await startTestApp({
      DOCKER_HOST: engine.host,
      S3_SECRET_ACCESS_KEY: S3_SECRET,
      ALERT_WEBHOOK_URL: webhook.url,
      ALERT_ON_RUN_FAILURE: 'true',
      OUTPUT_LIMIT_BYTES: '4096',
    });
    projectId = (await createProject(t.api)).id;
    app = uniqueName('app');
    await createProjectContainer(engine, projectId, { name: app, service: 'api', env: ['GREETING=from-the-container'] });
  });

  afterAll(async () => {
    await t?.close();
    await webhook?.close();
    if (projectId) await removeProject(engine, projectId);
  });

  it('runs in the container through Docker exec, keeping exit code and both streams', async () => {
    const task = await customTask('echo "$GREETING"; echo to-stderr >&2; cat /etc/hostname >/dev/null');
    const execution = await run(task.id);
    expect(execution).toMatchObject({
      status: 'success',
      result: { container: app, exitCode: 0 },
      output: { stdout: 'from-the-container\n', stderr: 'to-stderr\n' },
    });
  });

  it('finds the container by its Compose service name too', async () => {
    const task = await createTask(t.api, projectId, { type: 'custom', customConfig: { command: 'echo $GREETING', container: 'api' } });
    expect(await run(task.id)).toMatchObject({ status: 'success', result: { container: app }, output: { stdout: 'from-the-container\n' } });
  });

  it('fails on a non-zero exit, keeping the output, and alerts with ALERT_ON_RUN_FAILURE', async () => {
    const task = await customTask('echo partial; exit 7');
    const execution = await run(task.id);
    expect(execution).toMatchObject({ status: 'failed', error: 'Command exited with code 7', output: { stdout: 'partial\n' } });
    const alert = await webhook.waitFor((a) => a.task.id === task.id);
    expect(alert).toMatchObject({ event: 'run.failed', execution: { id: execution.id, status: 'failed' } });
    expect(alert.message).toContain('Command exited with code 7');
  });

  it('fails clearly for a container or service the project does not have', async () => {
    const task = await createTask(t.api, projectId, { type: 'custom', customConfig: { command: 'true', container: 'nope' } });
    expect(await run(task.id)).toMatchObject({ status: 'failed', error: `No container or service named nope in project ${projectId}` });
  });

  it('a timeout stops the command inside the container too', async () => {
    const marker = `sleep 31${Math.floor(Math.random() * 90) + 10}`;
    const task = await customTask(`echo started; ${marker}`, { timeoutSeconds: 2 });
    const execution = await run(task.id);
    expect(execution).toMatchObject({ status: 'timeout', error: 'Timed out after 2 s', output: { stdout: 'started\n' } });
    await expect.poll(() => processesWith(marker), { timeout: 5000 }).toEqual([]);
    await webhook.waitFor((a) => a.task.id === task.id && a.execution?.status === 'timeout');
  });

  it('a cancel stops it as well', async () => {
    const marker = `sleep 32${Math.floor(Math.random() * 90) + 10}`;
    const task = await customTask(marker);
    const started = await t.api.post(`/api/v1/tasks/${task.id}/run?wait=false`);
    expect(started.status).toBe(202);
    await expect.poll(async () => (await processesWith(marker)).length, { timeout: 5000 }).toBeGreaterThan(0);
    const cancel = await t.api.post(`/api/v1/tasks/${task.id}/executions/${started.body.execution.id}/cancel`);
    expect(cancel.status).toBe(200);
    await expect.poll(async () => (await t.api.get(`/api/v1/tasks/${task.id}/executions/${started.body.execution.id}`)).body.status).toBe('cancelled');
    await expect.poll(() => processesWith(marker), { timeout: 5000 }).toEqual([]);
  });

  it('keeps large output bounded: its start and its end', async () => {
    const task = await customTask('i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done; echo done');
    const execution = await run(task.id);
    expect(execution.status).toBe('success');
    expect(execution.output.stdout.startsWith('line 0\n')).toBe(true);
    expect(execution.output.stdout.endsWith('line 19999\ndone\n')).toBe(true);
    expect(execution.output.stdout).toMatch(/\[… \d+ bytes omitted …\]/);
    expect(execution.result.stdoutTruncatedBytes).toBeGreaterThan(100_000);
    expect(Buffer.byteLength(execution.output.stdout)).toBeLessThan(4096 + 100);
  });

  it("masks the service's known secrets in stored output, wherever a command got them", async () => {
    const task = await customTask(`echo "key=${ADMIN_KEY} s3=${S3_SECRET}"; echo ${S3_SECRET} >&2`);
    const execution = await run(task.id);
    expect(execution.status).toBe('success');
    const stored = JSON.stringify((await t.api.get(`/api/v1/tasks/${task.id}/executions/${execution.id}`)).body);
    expect(stored).not.toContain(ADMIN_KEY);
    expect(stored).not.toContain(S3_SECRET);
    expect(execution.output.stdout).toContain('key=');
  });

  it('a command in a container cannot see the service environment; neither can a host command', async () => {
    const inContainer = await run((await customTask('env')).id);
    expect(inContainer.output.stdout).toContain('GREETING=from-the-container');
    expect(inContainer.output.stdout).not.toMatch(/ADMIN_API_KEY|S3_SECRET_ACCESS_KEY|ALERT_WEBHOOK_URL|DATABASE_URL/);

    const onHost = await createTask(t.api, projectId, { type: 'custom', customConfig: { command: 'env; cat /proc/$PPID/environ 2>/dev/null | tr "\\0" "\\n"' } });
    const hostRun = await run(onHost.id);
    expect(hostRun.status).toBe('success');
    expect(hostRun.output.stdout).toContain('PATH=');
    expect(hostRun.output.stdout).not.toMatch(/ADMIN_API_KEY|S3_SECRET_ACCESS_KEY|ALERT_WEBHOOK_URL/);
    expect(hostRun.output.stdout).not.toContain(S3_SECRET);
  });

  it('fails a command in a stopped container, saying so', async () => {
    const stopped = uniqueName('stopped');
    await createProjectContainer(engine, projectId, { name: stopped, start: false });
    const task = await createTask(t.api, projectId, { type: 'custom', customConfig: { command: 'true', container: stopped } });
    expect(await run(task.id)).toMatchObject({ status: 'failed', error: `Container ${stopped} is not running (created)` });
    await sleep(0);
  });
});

describe('CUSTOM_HOST_COMMANDS=disabled', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DOCKER_HOST: testEngine().host, CUSTOM_HOST_COMMANDS: 'disabled' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses host commands at create (400) but allows commands in containers', async () => {
    const project = await createProject(t.api);
    const host = await t.api.post('/api/v1/tasks', {
      name: 'host',
      type: 'custom',
      projectId: project.id,
      cronExpression: '0 * * * *',
      customConfig: { command: 'uptime' },
    });
    expect(host.status).toBe(400);
    expect(host.body.details).toEqual([
      { field: 'customConfig.container', message: 'host commands are disabled on this server (CUSTOM_HOST_COMMANDS=disabled): name a container' },
    ]);
    const inContainer = await createTask(t.api, project.id, { type: 'custom', customConfig: { command: 'uptime', container: 'web' } });
    expect(inContainer.customConfig).toEqual({ command: 'uptime', container: 'web' });
  });
});
