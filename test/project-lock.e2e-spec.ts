import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_EXECUTORS } from '../src/executors/executors.module';
import type { ExecutionOutcome, ExecutionRequest, TaskExecutors } from '../src/executors/task-executor';
import { ProjectLocksRepository } from '../src/scheduler/project-locks.repository';
import { Execution } from '../src/tasks/entities/execution.entity';
import { createProject, createTask } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The per-project lock and the record of touched containers, which the container-changing
 * executors (updates, backups that stop containers, restores) build on. Until those exist, a
 * stand-in for the container-update executor exercises them through the real runner.
 */
describe('one container-changing run per project', () => {
  let t: TestApp;
  const spans: Array<{ projectId: string; start: number; end: number }> = [];
  const repaired: Array<{ projectId: string; containers: string[] }> = [];

  beforeAll(async () => {
    t = await startTestApp({ SCHEDULER_TICK_SECONDS: '1', RUN_LEASE_SECONDS: '5' });
    const executors = t.app.get<TaskExecutors>(TASK_EXECUTORS, { strict: false });
    executors['container-update'] = {
      async execute(request: ExecutionRequest<'container-update'>): Promise<ExecutionOutcome> {
        await request.lockProject();
        const start = Date.now();
        await request.recordTouchedContainers([`${request.task.projectId}-web-1`]);
        await sleep(700);
        spans.push({ projectId: request.task.projectId, start, end: Date.now() });
        return { status: 'success', result: { updated: 1 } };
      },
      async repair(projectId: string, containers: string[]) {
        repaired.push({ projectId, containers });
      },
    };
  });

  afterAll(async () => {
    await t.close();
  });

  it('the lock is held by one execution; a lock past its expiry can be taken over', async () => {
    const locks = t.app.get(ProjectLocksRepository);
    const now = new Date();
    const later = new Date(now.getTime() + 60_000);
    const project = (await createProject(t.api)).id;
    expect(await locks.tryLock({ projectId: project, executionId: 'exec-a', replicaId: 'r', expiresAt: later }, now)).toBe(true);
    expect(await locks.tryLock({ projectId: project, executionId: 'exec-b', replicaId: 'r', expiresAt: later }, now)).toBe(false);
    // Asking again as the holder is fine.
    expect(await locks.tryLock({ projectId: project, executionId: 'exec-a', replicaId: 'r', expiresAt: later }, now)).toBe(true);
    const afterExpiry = new Date(later.getTime() + 1);
    expect(await locks.tryLock({ projectId: project, executionId: 'exec-b', replicaId: 'r', expiresAt: afterExpiry }, afterExpiry)).toBe(true);
    await locks.unlock(project, 'exec-b');
    expect(await locks.tryLock({ projectId: project, executionId: 'exec-c', replicaId: 'r', expiresAt: later }, now)).toBe(true);
    await locks.unlock(project, 'exec-c');
  });

  it('runs of the same project never overlap; runs of different projects may', async () => {
    const first = (await createProject(t.api)).id;
    const second = (await createProject(t.api)).id;
    const tasks = [
      await createTask(t.api, first, { type: 'container-update', cronExpression: '0 0 1 1 *' }),
      await createTask(t.api, first, { type: 'container-update', cronExpression: '0 0 1 1 *' }),
      await createTask(t.api, second, { type: 'container-update', cronExpression: '0 0 1 1 *' }),
    ];
    const runs = await Promise.all(tasks.map((task) => t.api.post(`/api/v1/tasks/${task.id}/run`)));
    for (const run of runs) expect(run.body.execution).toMatchObject({ status: 'success', result: { updated: 1 } });

    const [a, b] = spans.filter((span) => span.projectId === first).sort((x, y) => x.start - y.start);
    expect(b.start).toBeGreaterThanOrEqual(a.end);
    const other = spans.find((span) => span.projectId === second)!;
    expect(other.start).toBeLessThan(Math.max(a.end, b.end));
    const stored = await t.app.get(DataSource).getRepository(Execution).findOneBy({ id: runs[0].body.execution.id });
    expect(stored?.touchedContainers).toEqual([`${first}-web-1`]);
  });

  it('a run interrupted with containers touched is repaired when it is closed', async () => {
    const project = (await createProject(t.api)).id;
    const task = await createTask(t.api, project, { type: 'container-update', cronExpression: '0 0 1 1 *' });
    await t.app.get(DataSource).getRepository(Execution).insert({
      id: 'exec-touched00000000',
      taskId: task.id,
      trigger: 'schedule',
      triggeredBy: null,
      scheduledFor: new Date(Date.now() - 120_000),
      executedAt: new Date(Date.now() - 120_000),
      finishedAt: null,
      status: 'running',
      duration: null,
      result: null,
      error: null,
      replicaId: 'replica-gone',
      leaseExpiresAt: new Date(Date.now() - 1000),
      cancelRequested: false,
      touchedContainers: [`${project}-db-1`, `${project}-web-1`],
    });
    for (let attempt = 0; attempt < 50 && !repaired.some((entry) => entry.projectId === project); attempt++) await sleep(100);
    expect(repaired).toContainEqual({ projectId: project, containers: [`${project}-db-1`, `${project}-web-1`] });
    const closed = (await t.api.get(`/api/v1/tasks/${task.id}/executions/exec-touched00000000`)).body;
    expect(closed).toMatchObject({ status: 'failed', error: 'interrupted: replica replica-gone stopped renewing its lease' });
  });
});
