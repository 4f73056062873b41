import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client';
import { createProject, createTask } from '../support/factories';
import { ADMIN_KEY, isolatedDatabase } from '../support/test-app';
import { freePort } from '../support/ports';

/**
 * Three service processes on one PostgreSQL database, tasks firing every minute for three
 * minutes, and the replica holding a running execution killed with SIGKILL in the middle.
 */
const MAIN = resolve(__dirname, '../../dist/src/main.js');
const MINUTE = 60_000;
const LEASE_SECONDS = 5;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, Math.max(0, ms)));
const iso = (ms: number) => new Date(ms).toISOString();

interface Replica {
  id: string;
  api: ApiClient;
  process: ChildProcess;
  dataDir: string;
  output: string;
}

describe('several replicas on one PostgreSQL database', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let db: Client;
  const replicas: Replica[] = [];
  let b1: number;
  let killed: { replica: Replica; executionId: string; at: number };
  const tasks: Record<string, string> = {};

  const startReplica = async (id: string): Promise<Replica> => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), `tasks-${id}-`));
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        ...database.environment,
        REPLICA_ID: id,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_API_KEY: ADMIN_KEY,
        SCHEDULER_TICK_SECONDS: '1',
        RUN_LEASE_SECONDS: String(LEASE_SECONDS),
        RECONCILE_INTERVAL_SECONDS: '5',
        LOG_REQUESTS: 'false',
        LOG_LEVEL: 'warn',
      },
      stdio: 'pipe',
    });
    const replica: Replica = { id, api: new ApiClient(`http://127.0.0.1:${port}`, ADMIN_KEY), process: child, dataDir, output: '' };
    child.stdout!.on('data', (chunk) => (replica.output += chunk));
    child.stderr!.on('data', (chunk) => (replica.output += chunk));
    for (let attempt = 0; attempt < 150; attempt++) {
      const up = await fetch(`http://127.0.0.1:${port}/health/ready`).then((response) => response.ok, () => false);
      if (up) return replica;
      await sleep(100);
    }
    throw new Error(`replica ${id} did not start:\n${replica.output}`);
  };

  beforeAll(async () => {
    if (!process.env.DATABASE_URL) throw new Error('the multi-replica test needs PostgreSQL (E2E_DATABASE=postgres)');
    database = await isolatedDatabase();
    db = new Client({ connectionString: database.environment.DATABASE_URL });
    // The first replica runs the migrations; the others start together, racing for nothing.
    replicas.push(await startReplica('r1'));
    replicas.push(...(await Promise.all([startReplica('r2'), startReplica('r3')])));
    await db.connect();

    const [r1] = replicas;
    // No minute boundary may pass while the tasks are being made: B1 is the first after them.
    const next = Math.ceil(Date.now() / MINUTE) * MINUTE;
    if (next - Date.now() < 10_000) await sleep(next - Date.now() + 500);
    b1 = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const project = (await createProject(r1.api)).id;
    for (const name of ['a', 'b', 'c', 'disabledLater']) {
      tasks[name] = (await createTask(r1.api, project, { type: 'custom', cronExpression: '* * * * *', customConfig: { command: `echo ${name}` } })).id;
    }
    tasks.long = (await createTask(r1.api, project, { type: 'custom', cronExpression: '* * * * *', customConfig: { command: 'sleep 40' } })).id;
    expect(Date.now()).toBeLessThan(b1 - 2000);
  }, 60_000);

  afterAll(async () => {
    for (const replica of replicas) {
      replica.process.kill('SIGKILL');
      rmSync(replica.dataDir, { recursive: true, force: true });
    }
    await db?.end();
    await sleep(200);
    await database?.drop();
  });

  it('runs through three minute boundaries, with a replica killed in the middle', async () => {
    await sleep(b1 + 5000 - Date.now());
    const running = await db.query(`SELECT "id", "replicaId" FROM "executions" WHERE "taskId" = $1 AND "status" = 'running'`, [tasks.long]);
    expect(running.rows).toHaveLength(1);
    const victim = replicas.find((replica) => replica.id === running.rows[0].replicaId)!;
    victim.process.kill('SIGKILL');
    killed = { replica: victim, executionId: running.rows[0].id, at: Date.now() };

    // Changes made through a surviving replica must reach every replica.
    const survivor = replicas.find((replica) => replica !== victim)!;
    const project = (await survivor.api.get(`/api/v1/tasks/${tasks.a}`)).body.projectId;
    tasks.late = (await createTask(survivor.api, project, { type: 'custom', cronExpression: '* * * * *', customConfig: { command: 'echo late' } })).id;
    expect((await survivor.api.put(`/api/v1/tasks/${tasks.disabledLater}`, { enabled: false })).status).toBe(200);

    await sleep(b1 + 2 * MINUTE + 8000 - Date.now());
  }, 5 * MINUTE);

  it('ran exactly one execution per task and slot, on time', async () => {
    const slots = [iso(b1), iso(b1 + MINUTE), iso(b1 + 2 * MINUTE)];
    const rows = await db.query(
      `SELECT "taskId", "scheduledFor", "executedAt", "status", "trigger" FROM "executions" WHERE "scheduledFor" IS NOT NULL ORDER BY "scheduledFor"`,
    );
    const byTask = (taskId: string) => rows.rows.filter((row) => row.taskId === taskId);
    for (const name of ['a', 'b', 'c', 'long']) {
      expect(byTask(tasks[name]).map((row) => row.scheduledFor.toISOString()), name).toEqual(slots);
    }
    expect(byTask(tasks.late).map((row) => row.scheduledFor.toISOString())).toEqual(slots.slice(1));
    expect(byTask(tasks.disabledLater).map((row) => row.scheduledFor.toISOString())).toEqual(slots.slice(0, 1));
    for (const row of rows.rows.filter((row) => row.trigger === 'schedule')) {
      const lateness = row.executedAt.getTime() - row.scheduledFor.getTime();
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThan(2000);
    }
    for (const name of ['a', 'b', 'c']) expect(byTask(tasks[name]).every((row) => row.status === 'success')).toBe(true);
  });

  it("closed the killed replica's running execution as interrupted after its lease; the task kept its schedule", async () => {
    const execution = (await db.query(`SELECT * FROM "executions" WHERE "id" = $1`, [killed.executionId])).rows[0];
    expect(execution.status).toBe('failed');
    expect(execution.error).toBe(`interrupted: replica ${killed.replica.id} stopped renewing its lease`);
    const closedAfter = execution.finishedAt.getTime() - killed.at;
    expect(closedAfter).toBeGreaterThan(0);
    expect(closedAfter).toBeLessThan((LEASE_SECONDS + 5) * 1000);
    const later = await db.query(
      `SELECT "status" FROM "executions" WHERE "taskId" = $1 AND "scheduledFor" = $2`,
      [tasks.long, new Date(b1 + MINUTE)],
    );
    expect(later.rows[0].status).toBe('success');
  });

  it('every surviving replica reports the others\' ticks and its lateness in /metrics', async () => {
    for (const replica of replicas.filter((candidate) => candidate !== killed.replica)) {
      const metrics = (await replica.api.get('/metrics')).text;
      for (const id of ['r1', 'r2', 'r3']) expect(metrics).toContain(`scheduler_last_tick_timestamp_seconds{replica="${id}"}`);
      expect(metrics).toMatch(/^task_fire_lateness_seconds_count [1-9]/m);
    }
  });
});
