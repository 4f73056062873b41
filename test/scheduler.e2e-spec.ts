import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Execution } from '../src/tasks/entities/execution.entity';
import { createApiKey, createProject, createTask } from './support/factories';
import { isolatedDatabase, startTestApp, type TestApp } from './support/test-app';
import { startWebhook, type TestWebhook } from './support/webhook';

/**
 * Real minutes, so every scenario that needs a slot shares one timeline: tasks are made before
 * the next minute boundary (B1) and checked after the one after it (B2).
 */
const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const sleepUntil = (at: number) => sleep(at - Date.now());
const host = (command: string, extra: Record<string, unknown> = {}) => ({
  type: 'custom',
  cronExpression: '* * * * *',
  customConfig: { command },
  ...extra,
});

/** The next minute boundary, at least `room` ms away (waiting past a nearer one first). */
async function nextBoundaryWithRoom(room: number): Promise<number> {
  const next = Math.ceil(Date.now() / MINUTE) * MINUTE;
  if (next - Date.now() >= room) return next;
  await sleepUntil(next + 500);
  return next + MINUTE;
}

async function executionsOf(t: TestApp, taskId: string): Promise<any[]> {
  const response = await t.api.get(`/api/v1/tasks/${taskId}/executions?limit=1000`);
  expect(response.status).toBe(200);
  return [...response.body.executions].reverse();
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(200);
  }
}

describe('scheduler (real minutes)', () => {
  const fast = { SCHEDULER_TICK_SECONDS: '1', RUN_LEASE_SECONDS: '5', RECONCILE_INTERVAL_SECONDS: '2' };
  // ALERT_ON_RUN_FAILURE: failed and timed-out runs and missed slots of every task reach the webhook.
  let webhook: TestWebhook;
  const alerting = () => ({ ALERT_WEBHOOK_URL: webhook.url, ALERT_ON_RUN_FAILURE: 'true' });
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let t: TestApp;
  let projectId: string;
  let b1: number;
  let b2: number;
  const ids: Record<string, string> = {};

  // Catch-up: a replica of its own database is down over B1, then starts again.
  let catchUpDatabase: Awaited<ReturnType<typeof isolatedDatabase>>;
  let catchUpApp: TestApp | undefined;
  let catchUpTaskId: string;
  let catchUpRestart: Promise<void>;

  beforeAll(async () => {
    webhook = await startWebhook();
    database = await isolatedDatabase();
    t = await startTestApp({ ...fast, ...alerting(), ...database.environment });
    projectId = (await createProject(t.api)).id;
    // Every task below must exist before B1 and no boundary may pass while they are being made.
    b1 = await nextBoundaryWithRoom(15_000);
    b2 = b1 + MINUTE;

    ids.tick = (await createTask(t.api, projectId, host('echo tick-$((1+1))'))).id;
    ids.overlap = (await createTask(t.api, projectId, host('sleep 100', { timeoutSeconds: 300 }))).id;
    ids.timeout = (await createTask(t.api, projectId, host('sleep 30', { timeoutSeconds: 2 }))).id;
    ids.disabled = (await createTask(t.api, projectId, host('echo never', { enabled: false }))).id;
    ids.editedIn = (await createTask(t.api, projectId, host('echo edited', { cronExpression: '0 0 1 1 *' }))).id;
    ids.editedOut = (await createTask(t.api, projectId, host('echo disabled later'))).id;
    ids.deleted = (await createTask(t.api, projectId, host('echo deleted'))).id;
    expect((await t.api.put(`/api/v1/tasks/${ids.editedIn}`, { cronExpression: '* * * * *' })).status).toBe(200);
    expect((await t.api.put(`/api/v1/tasks/${ids.editedOut}`, { enabled: false })).status).toBe(200);
    expect((await t.api.delete(`/api/v1/tasks/${ids.deleted}`)).status).toBe(200);

    const catchUpDir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/tasks-catchup-`);
    catchUpDatabase = await isolatedDatabase();
    const first = await startTestApp({ ...fast, ...catchUpDatabase.environment }, { dataDir: catchUpDir });
    const catchUpProject = (await createProject(first.api)).id;
    catchUpTaskId = (await createTask(first.api, catchUpProject, host('echo caught up'))).id;
    await first.close();
    catchUpRestart = (async () => {
      await sleepUntil(b1 + 3000);
      catchUpApp = await startTestApp({ ...fast, ...alerting(), ...catchUpDatabase.environment }, { dataDir: catchUpDir });
    })();
  }, 60_000);

  afterAll(async () => {
    await catchUpRestart.catch(() => undefined);
    await catchUpApp?.close();
    await t?.close();
    await database?.drop();
    await catchUpDatabase?.drop();
    await webhook?.close();
  });

  describe('manual runs (no waiting for a slot)', () => {
    it('POST /run answers 200 with the finished execution in the seed shape, triggeredBy the key', async () => {
      const writer = await createApiKey(t.api, ['tasks:read', 'tasks:write', 'tasks:host-commands']);
      const task = await createTask(t.api, projectId, host('echo manual; echo oops >&2', { cronExpression: '0 0 1 1 *' }));
      const response = await t.api.post(`/api/v1/tasks/${task.id}/run`, undefined, { key: writer.key });
      expect(response.status).toBe(200);
      expect(response.body.success).toBe(true);
      const execution = response.body.execution;
      expect(execution).toMatchObject({ taskId: task.id, trigger: 'manual', triggeredBy: writer.id, scheduledFor: null, status: 'success', error: null });
      expect(execution.duration).toEqual(expect.any(Number));
      expect(execution.result).toMatchObject({ exitCode: 0 });
      const detail = await t.api.get(`/api/v1/tasks/${task.id}/executions/${execution.id}`);
      expect(detail.body.output).toEqual({ stdout: 'manual\n', stderr: 'oops\n' });
      const after = (await t.api.get(`/api/v1/tasks/${task.id}`)).body;
      expect(after.lastRun).toBe(execution.executedAt);
      expect(after.lastStatus).toBe('success');
      expect(after.history[0].id).toBe(execution.id);
    });

    it('a failing command is still 200, with status failed and the exit code', async () => {
      const task = await createTask(t.api, projectId, host('exit 7', { cronExpression: '0 0 1 1 *' }));
      const response = await t.api.post(`/api/v1/tasks/${task.id}/run`);
      expect(response.status).toBe(200);
      expect(response.body.execution).toMatchObject({ status: 'failed', error: 'Command exited with code 7', result: { exitCode: 7 } });
    });

    it('?wait=false answers 202 at once; a second run is 409; cancel stops it', async () => {
      const task = await createTask(t.api, projectId, host('sleep 30', { cronExpression: '0 0 1 1 *' }));
      const started = await t.api.post(`/api/v1/tasks/${task.id}/run?wait=false`);
      expect(started.status).toBe(202);
      expect(started.body.execution).toMatchObject({ status: 'running', finishedAt: null });
      const again = await t.api.post(`/api/v1/tasks/${task.id}/run`);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ success: false, error: 'Task is already running' });

      const before = Date.now();
      const cancelled = await t.api.post(`/api/v1/tasks/${task.id}/executions/${started.body.execution.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.execution).toMatchObject({ id: started.body.execution.id, status: 'cancelled' });
      expect(Date.now() - before).toBeLessThan(5000);
      const twice = await t.api.post(`/api/v1/tasks/${task.id}/executions/${started.body.execution.id}/cancel`);
      expect(twice.status).toBe(409);
      expect((await t.api.get(`/api/v1/tasks/${task.id}`)).body.lastStatus).toBe('cancelled');
    });

    it('runs whatever enabled says; run and cancel need tasks:write; host tasks need tasks:host-commands', async () => {
      const task = await createTask(t.api, projectId, host('true', { enabled: false }));
      expect((await t.api.post(`/api/v1/tasks/${task.id}/run`)).body.execution.status).toBe('success');
      const reader = await createApiKey(t.api, ['tasks:read']);
      expect((await t.api.post(`/api/v1/tasks/${task.id}/run`, undefined, { key: reader.key })).status).toBe(403);
      const writer = await createApiKey(t.api, ['tasks:read', 'tasks:write']);
      const forbidden = await t.api.post(`/api/v1/tasks/${task.id}/run`, undefined, { key: writer.key });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.details).toMatch(/tasks:host-commands/);
    });

    it('executions: paged, filtered by status, 404s, hidden from keys of other projects', async () => {
      const task = await createTask(t.api, projectId, host('true', { cronExpression: '0 0 1 1 *' }));
      for (let i = 0; i < 3; i++) {
        expect((await t.api.post(`/api/v1/tasks/${task.id}/run`)).body.execution).toMatchObject({ status: 'success' });
      }
      const failing = await t.api.put(`/api/v1/tasks/${task.id}`, { customConfig: { command: 'exit 1' } });
      expect(failing.status).toBe(200);
      await t.api.post(`/api/v1/tasks/${task.id}/run`);

      const page = await t.api.get(`/api/v1/tasks/${task.id}/executions?limit=2`);
      expect(page.body.total).toBe(4);
      expect(page.body.executions).toHaveLength(2);
      expect(page.body.executions[0].status).toBe('failed');
      expect(page.body.executions[0].output).toBeUndefined();
      const successes = await t.api.get(`/api/v1/tasks/${task.id}/executions?status=success`);
      expect(successes.body.total).toBe(3);
      expect(successes.body.executions.every((e: { status: string }) => e.status === 'success')).toBe(true);
      expect((await t.api.get(`/api/v1/tasks/${task.id}/executions?status=done`)).status).toBe(400);
      expect((await t.api.get(`/api/v1/tasks/${task.id}/executions/exec-0000000000000000`)).body).toEqual({
        success: false,
        error: 'Execution not found',
      });
      expect((await t.api.get('/api/v1/tasks/task-0000000000000000/executions')).status).toBe(404);

      const otherProject = await createProject(t.api);
      const scoped = await createApiKey(t.api, ['*'], { projectIds: [otherProject.id] });
      expect((await t.api.get(`/api/v1/tasks/${task.id}/executions`, { key: scoped.key })).body.error).toBe('Task not found');
      expect((await t.api.post(`/api/v1/tasks/${task.id}/run`, undefined, { key: scoped.key })).status).toBe(404);
    });

    it('a run left running by a replica that died is closed as failed (interrupted) once its lease expires', async () => {
      const task = await createTask(t.api, projectId, host('true', { cronExpression: '0 0 1 1 *' }));
      const executions = t.app.get(DataSource).getRepository(Execution);
      const now = Date.now();
      await executions.insert({
        id: 'exec-dead0000dead0000',
        taskId: task.id,
        trigger: 'manual',
        triggeredBy: 'admin-env',
        scheduledFor: null,
        executedAt: new Date(now - 60_000),
        finishedAt: null,
        status: 'running',
        duration: null,
        result: null,
        error: null,
        replicaId: 'replica-that-died',
        leaseExpiresAt: new Date(now - 1000),
        cancelRequested: false,
      });
      const closed = await waitFor(async () => {
        const execution = (await t.api.get(`/api/v1/tasks/${task.id}/executions/exec-dead0000dead0000`)).body;
        return execution.status === 'running' ? undefined : execution;
      }, 10_000);
      expect(closed.status).toBe('failed');
      expect(closed.error).toMatch(/^interrupted: replica replica-that-died/);
      expect((await t.api.get(`/api/v1/tasks/${task.id}`)).body).toMatchObject({ lastStatus: 'failed', enabled: true });
      // The task keeps its schedule and can run again.
      expect((await t.api.post(`/api/v1/tasks/${task.id}/run`)).body.execution.status).toBe('success');
    });
  });

  describe('limits, retention and shutdown (apps of their own)', () => {
    it('MAX_CONCURRENT_RUNS: runs beyond it wait for a free slot', async () => {
      const limited = await startTestApp({ ...fast, MAX_CONCURRENT_RUNS: '1' });
      try {
        const project = (await createProject(limited.api)).id;
        const first = await createTask(limited.api, project, host('sleep 1', { cronExpression: '0 0 1 1 *' }));
        const second = await createTask(limited.api, project, host('true', { cronExpression: '0 0 1 1 *' }));
        const a = (await limited.api.post(`/api/v1/tasks/${first.id}/run?wait=false`)).body.execution;
        const b = (await limited.api.post(`/api/v1/tasks/${second.id}/run?wait=false`)).body.execution;
        const done = async (taskId: string, id: string) =>
          waitFor(async () => {
            const execution = (await limited.api.get(`/api/v1/tasks/${taskId}/executions/${id}`)).body;
            return execution.status === 'running' ? undefined : execution;
          }, 10_000);
        const [ea, eb] = [await done(first.id, a.id), await done(second.id, b.id)];
        expect(ea.status).toBe('success');
        expect(eb.status).toBe('success');
        expect(Date.parse(eb.executedAt)).toBeGreaterThanOrEqual(Date.parse(ea.finishedAt));
      } finally {
        await limited.close();
      }
    });

    it('history is kept up to HISTORY_MAX_PER_TASK per task', async () => {
      const small = await startTestApp({ ...fast, HISTORY_MAX_PER_TASK: '3' });
      try {
        const project = (await createProject(small.api)).id;
        const task = await createTask(small.api, project, host('true', { cronExpression: '0 0 1 1 *' }));
        const runs: string[] = [];
        for (let i = 0; i < 5; i++) runs.push((await small.api.post(`/api/v1/tasks/${task.id}/run`)).body.execution.id);
        const kept = (await small.api.get(`/api/v1/tasks/${task.id}/executions`)).body;
        expect(kept.total).toBe(3);
        expect(kept.executions.map((e: { id: string }) => e.id)).toEqual(runs.slice(2).reverse());
      } finally {
        await small.close();
      }
    });

    it('shutdown waits for running work up to the grace period, then closes the rest as interrupted', async () => {
      const closing = await startTestApp({ ...fast, SHUTDOWN_GRACE_SECONDS: '3' });
      const project = (await createProject(closing.api)).id;
      const short = await createTask(closing.api, project, host('sleep 1; echo finished', { cronExpression: '0 0 1 1 *' }));
      const long = await createTask(closing.api, project, host('sleep 60', { cronExpression: '0 0 1 1 *' }));
      const shortRun = (await closing.api.post(`/api/v1/tasks/${short.id}/run?wait=false`)).body.execution;
      const longRun = (await closing.api.post(`/api/v1/tasks/${long.id}/run?wait=false`)).body.execution;
      const executions = closing.app.get(DataSource).getRepository(Execution);
      const before = Date.now();
      const finished = new Promise<[Execution | null, Execution | null]>((resolve) => {
        // Read through the app's own connection just before it closes.
        const original = closing.app.get(DataSource).destroy.bind(closing.app.get(DataSource));
        closing.app.get(DataSource).destroy = async () => {
          resolve([await executions.findOneBy({ id: shortRun.id }), await executions.findOneBy({ id: longRun.id })]);
          return original();
        };
      });
      await closing.close();
      const elapsed = Date.now() - before;
      const [shortAfter, longAfter] = await finished;
      expect(shortAfter?.status).toBe('success');
      expect(longAfter?.status).toBe('failed');
      expect(longAfter?.error).toMatch(/^interrupted/);
      expect(elapsed).toBeGreaterThanOrEqual(2500);
      expect(elapsed).toBeLessThan(12_000);
    });
  });

  describe('slots', () => {
    it('waits for two minute boundaries', async () => {
      await sleepUntil(b2 + 8000);
      await catchUpRestart;
    }, 4 * MINUTE);

    it('an every-minute task ran once per slot, on time', async () => {
      const runs = (await executionsOf(t, ids.tick)).filter((e) => e.trigger === 'schedule');
      expect(runs.map((e) => e.scheduledFor)).toEqual([new Date(b1).toISOString(), new Date(b2).toISOString()]);
      for (const run of runs) {
        expect(run.status).toBe('success');
        expect(run.triggeredBy).toBeNull();
        const lateness = Date.parse(run.executedAt) - Date.parse(run.scheduledFor);
        expect(lateness).toBeGreaterThanOrEqual(0);
        expect(lateness).toBeLessThan(2000);
      }
      const detail = (await t.api.get(`/api/v1/tasks/${ids.tick}/executions/${runs[0].id}`)).body;
      expect(detail.output.stdout).toBe('tick-2\n');
      const task = (await t.api.get(`/api/v1/tasks/${ids.tick}`)).body;
      expect(task).toMatchObject({ lastStatus: 'success', lastRun: runs[1].executedAt, nextRun: new Date(b2 + MINUTE).toISOString() });
    });

    it('a slot that comes while the previous run is still going is recorded as skipped', async () => {
      const runs = await executionsOf(t, ids.overlap);
      expect(runs.map((e) => [e.scheduledFor, e.status])).toEqual([
        [new Date(b1).toISOString(), 'running'],
        [new Date(b2).toISOString(), 'skipped'],
      ]);
      // lastRun/lastStatus follow executed runs only.
      expect((await t.api.get(`/api/v1/tasks/${ids.overlap}`)).body.lastStatus).toBeNull();
      const cancelled = await t.api.post(`/api/v1/tasks/${ids.overlap}/executions/${runs[0].id}/cancel`);
      expect(cancelled.body.execution.status).toBe('cancelled');
    });

    it('a run past its timeout is stopped and recorded as timeout', async () => {
      const runs = await executionsOf(t, ids.timeout);
      expect(runs).toHaveLength(2);
      for (const run of runs) {
        expect(run.status).toBe('timeout');
        expect(run.duration).toBeGreaterThanOrEqual(2000);
        expect(run.duration).toBeLessThan(5000);
      }
    });

    it('changes apply at once: edited in runs, disabled and deleted do not, disabled never ran', async () => {
      expect((await executionsOf(t, ids.editedIn)).map((e) => e.scheduledFor)).toEqual([
        new Date(b1).toISOString(),
        new Date(b2).toISOString(),
      ]);
      expect(await executionsOf(t, ids.editedOut)).toEqual([]);
      expect(await executionsOf(t, ids.disabled)).toEqual([]);
      const orphans = await t.app.get(DataSource).getRepository(Execution).countBy({ taskId: ids.deleted });
      expect(orphans).toBe(0);
    });

    it('the latest slot missed while no replica was up runs once at start-up (catch-up)', async () => {
      const runs = await executionsOf(catchUpApp!, catchUpTaskId);
      expect(runs[0]).toMatchObject({ trigger: 'catch-up', scheduledFor: new Date(b1).toISOString(), status: 'success' });
      // B2 came while the restarted replica was up: a normal slot.
      expect(runs.slice(1).map((e) => [e.trigger, e.scheduledFor])).toEqual([['schedule', new Date(b2).toISOString()]]);
    });

    it('with ALERT_ON_RUN_FAILURE the webhook heard of the skipped slot, the timeouts and the slot missed while down', async () => {
      const skipped = await webhook.waitFor((a) => a.task.id === ids.overlap);
      expect(skipped).toMatchObject({
        event: 'slot.missed',
        details: { slot: new Date(b2).toISOString(), reason: 'the previous run was still running' },
      });
      const timeouts = webhook.received.filter((a) => a.task.id === ids.timeout);
      expect(timeouts.map((a) => [a.event, a.execution?.status])).toEqual([
        ['run.failed', 'timeout'],
        ['run.failed', 'timeout'],
      ]);
      const missed = await webhook.waitFor((a) => a.task.id === catchUpTaskId);
      expect(missed).toMatchObject({ event: 'slot.missed', details: { caughtUpSlot: new Date(b1).toISOString() } });
      // Successful runs send nothing.
      expect(webhook.received.filter((a) => a.task.id === ids.tick)).toEqual([]);
    });

    it('metrics show runs by type and status, lateness, scheduled tasks and the replica tick', async () => {
      expect((await t.api.get('/metrics', { key: null })).status).toBe(401);
      const metrics = (await t.api.get('/metrics')).text;
      expect(metrics).toMatch(/^task_runs_total\{type="custom",status="success"\} \d+/m);
      expect(metrics).toMatch(/^task_runs_total\{type="custom",status="skipped"\} 1$/m);
      expect(metrics).toMatch(/^task_runs_total\{type="custom",status="timeout"\} 2$/m);
      expect(Number(/^task_fire_lateness_seconds_count (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(6);
      expect(Number(/^tasks_scheduled (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
      expect(metrics).toMatch(/^scheduler_last_tick_timestamp_seconds\{replica="[^"]+"\} \d+/m);
      expect(metrics).toMatch(/^task_run_duration_seconds_bucket\{le="1",type="custom"\} \d+/m);
    });
  });
});

describe('readiness', () => {
  it('/health/ready is 503 once the scheduler heartbeat is stale', async () => {
    const stalled = await startTestApp({ SCHEDULER_TICK_SECONDS: '1' });
    try {
      expect((await stalled.api.get('/health/ready', { key: null })).status).toBe(200);
      // Every tick needs the database: without it the heartbeat stops.
      await stalled.app.get(DataSource).destroy();
      const ready = await waitFor(async () => {
        const response = await stalled.api.get('/health/ready', { key: null });
        return response.body.checks?.scheduler?.status === 'down' ? response : undefined;
      }, 25_000);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.scheduler.message).toMatch(/heartbeat stale/);
    } finally {
      await stalled.close().catch(() => undefined);
    }
  }, 40_000);
});
