import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client';
import { createProjectContainer, removeProject, testEngine, uniqueName, type TestEngine } from '../support/engine';
import { createProject, createTask } from '../support/factories';
import { freePort } from '../support/ports';
import { ADMIN_KEY, isolatedDatabase, startTestApp, type TestApp } from '../support/test-app';

const MAIN = resolve(__dirname, '../../dist/src/main.js');
const LEASE_SECONDS = 5;

/**
 * The service killed (SIGKILL) while a backup holds the project's containers stopped: whichever
 * replica closes the interrupted run starts them again.
 */
describe('a backup with stopContainers, the service killed in the middle', () => {
  let engine: TestEngine;
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let dataDir: string;
  let child: ChildProcess | undefined;
  let childOutput = '';
  let survivor: TestApp | undefined;
  // An S3 endpoint that accepts connections and never answers: the upload hangs, the containers stay stopped.
  let blackHole: Server;
  const sockets: Socket[] = [];
  let projectId: string | undefined;
  let blackHolePort: number;

  const environment = (blackHolePort: number) => ({
    ...database.environment,
    DATA_DIR: dataDir,
    DOCKER_HOST: engine.host,
    ADMIN_API_KEY: ADMIN_KEY,
    SCHEDULER_TICK_SECONDS: '1',
    RUN_LEASE_SECONDS: String(LEASE_SECONDS),
    S3_ENDPOINT: `http://127.0.0.1:${blackHolePort}`,
    S3_BUCKET: 'backups',
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'id',
    S3_SECRET_ACCESS_KEY: 'crash-test-secret',
    LOG_REQUESTS: 'false',
    LOG_LEVEL: 'warn',
  });

  beforeAll(async () => {
    if (!process.env.E2E_DOCKER_HOST) throw new Error('E2E_DOCKER_HOST is not set: run the engine tests through npm test');
    engine = testEngine();
    database = await isolatedDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'backup-crash-'));
    blackHole = createServer((socket) => sockets.push(socket));
    blackHolePort = await freePortFor(blackHole);
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await survivor?.close();
    for (const socket of sockets) socket.destroy();
    blackHole?.close();
    if (projectId) await removeProject(engine, projectId);
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the next replica closes the run as interrupted and starts the stopped containers again', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...environment(blackHolePort), PORT: String(port), HOST: '127.0.0.1', REPLICA_ID: 'doomed' },
      stdio: 'pipe',
    });
    child.stdout!.on('data', (chunk) => (childOutput += chunk));
    child.stderr!.on('data', (chunk) => (childOutput += chunk));
    const api = new ApiClient(`http://127.0.0.1:${port}`, ADMIN_KEY);
    await expect.poll(() => fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false), { timeout: 15_000 }).toBe(true);

    projectId = (await createProject(api)).id;
    const web = uniqueName('web');
    await createProjectContainer(engine, projectId, { name: web });
    const task = await createTask(api, projectId, { type: 'backup', backupConfig: { type: 'volumes', destination: 's3', encrypt: false, stopContainers: true } });
    const started = await api.post(`/api/v1/tasks/${task.id}/run?wait=false`);
    expect(started.status).toBe(202);
    await expect.poll(async () => (await engine.docker.getContainer(web).inspect()).State.Running, { timeout: 15_000 }).toBe(false);

    child!.kill('SIGKILL');
    await new Promise((done) => child!.once('exit', done));
    expect((await engine.docker.getContainer(web).inspect()).State.Running).toBe(false);

    survivor = await startTestApp(environment(blackHolePort), { dataDir });
    await expect.poll(async () => (await engine.docker.getContainer(web).inspect()).State.Running, { timeout: 30_000 }).toBe(true);
    const execution = (await survivor.api.get(`/api/v1/tasks/${task.id}/executions/${started.body.execution.id}`)).body;
    expect(execution).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: replica doomed/) });
    expect((await survivor.api.get(`/api/v1/projects/${projectId}/backups`)).body.backups).toEqual([]);
    expect(childOutput).not.toContain('crash-test-secret');
  });

  it('a timed-out backup leaves the containers running again and nothing stored', async () => {
    const app = survivor!;
    const web = uniqueName('web');
    await createProjectContainer(engine, projectId!, { name: web });
    const task = await createTask(app.api, projectId!, {
      type: 'backup',
      timeoutSeconds: 3,
      backupConfig: { type: 'volumes', destination: 's3', encrypt: false, stopContainers: true },
    });
    const { execution } = (await app.api.post(`/api/v1/tasks/${task.id}/run`)).body;
    expect(execution).toMatchObject({ status: 'timeout', error: 'Timed out after 3 s' });
    expect((await engine.docker.getContainer(web).inspect()).State.Running).toBe(true);
    expect((await app.api.get(`/api/v1/projects/${projectId}/backups`)).body.backups).toEqual([]);
  });
});

async function freePortFor(server: Server): Promise<number> {
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return port;
}
