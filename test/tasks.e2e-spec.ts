import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Execution } from '../src/tasks/entities/execution.entity';
import { createProject, createTask, taskBody } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/** The seed contract's create requests, verbatim, with `projectId` pointed at a real project. */
const seedRequests = (projectId: string) => ({
  'health-check': {
    name: 'Production Health Check',
    enabled: true,
    type: 'health-check',
    projectId,
    cronExpression: '*/5 * * * *',
    timezone: 'UTC',
    healthCheckConfig: { checkContainers: true, checkConnectivity: true, alertOnFailure: true },
  },
  backup: {
    name: 'Daily Full Backup',
    enabled: true,
    type: 'backup',
    projectId,
    cronExpression: '0 2 * * *',
    timezone: 'America/New_York',
    backupConfig: { type: 'full', destination: 's3', encrypt: true },
  },
  'container-update': {
    name: 'Weekly Updates',
    enabled: true,
    type: 'container-update',
    projectId,
    cronExpression: '0 4 * * 0',
    timezone: 'UTC',
    containerUpdateConfig: { pullImages: true, restartAfterUpdate: true },
  },
  custom: {
    name: 'Database Vacuum',
    enabled: true,
    type: 'custom',
    projectId,
    cronExpression: '0 5 * * 0',
    timezone: 'UTC',
    customConfig: { command: "docker exec production-db psql -U postgres -c 'VACUUM ANALYZE;'" },
  },
});

const CONFIG_KEYS = ['healthCheckConfig', 'backupConfig', 'containerUpdateConfig', 'customConfig'];

describe('Tasks API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('the seed examples, sent verbatim', () => {
    it.each(['health-check', 'backup', 'container-update', 'custom'] as const)(
      'creates a %s task and answers in the seed shape',
      async (type) => {
        const project = await createProject(t.api, { name: 'Production' });
        const request = seedRequests(project.id)[type];
        const before = Date.now();
        const response = await t.api.post('/api/v1/tasks', request);

        expect(response.status).toBe(201);
        expect(response.body.success).toBe(true);
        const task = response.body.task;
        expect(task.id).toMatch(/^task-[0-9a-f]{16}$/);
        expect(task).toMatchObject({
          name: request.name,
          type,
          enabled: true,
          projectId: project.id,
          projectName: 'Production',
          cronExpression: request.cronExpression,
          timezone: request.timezone,
          lastRun: null,
          lastStatus: null,
        });
        expect(task.createdAt).toMatch(ISO_UTC);
        expect(Date.parse(task.createdAt)).toBeGreaterThanOrEqual(before - 1000);
        expect(task.nextRun).toMatch(ISO_UTC);
        expect(Date.parse(task.nextRun)).toBeGreaterThan(before);
        // Only the type's own config, with the given values kept.
        const configKey = CONFIG_KEYS.find((key) => key in request)!;
        expect(task[configKey]).toMatchObject((request as Record<string, unknown>)[configKey] as object);
        expect(CONFIG_KEYS.filter((key) => key in task)).toEqual([configKey]);
      },
    );

    it('computes nextRun in the task time zone (0 2 * * * in New York = 07:00Z in winter)', async () => {
      const project = await createProject(t.api);
      const task = (await t.api.post('/api/v1/tasks', seedRequests(project.id).backup)).body.task;
      const next = new Date(task.nextRun);
      const newYorkHour = Number(
        new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: '2-digit', hourCycle: 'h23' }).format(next),
      );
      expect(newYorkHour).toBe(2);
      expect(next.getUTCMinutes()).toBe(0);
      expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    });

    it('GET /tasks/:id answers the seed shape with config and history', async () => {
      const project = await createProject(t.api, { name: 'My Project' });
      const created = (await t.api.post('/api/v1/tasks', seedRequests(project.id).backup)).body.task;
      const response = await t.api.get(`/api/v1/tasks/${created.id}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: created.id,
        name: 'Daily Full Backup',
        type: 'backup',
        enabled: true,
        projectId: project.id,
        projectName: 'My Project',
        cronExpression: '0 2 * * *',
        timezone: 'America/New_York',
        backupConfig: { type: 'full', destination: 's3', encrypt: true },
        nextRun: created.nextRun,
        lastRun: null,
        lastStatus: null,
        history: [],
        createdAt: created.createdAt,
      });
      expect(response.body.success).toBeUndefined();
    });

    it('PUT with the seed update body answers the seed shape, nextRun null while disabled', async () => {
      const project = await createProject(t.api);
      const created = await createTask(t.api, project.id, { cronExpression: '0 2 * * *' });
      const response = await t.api.put(`/api/v1/tasks/${created.id}`, {
        name: 'Updated Task Name',
        enabled: false,
        cronExpression: '0 3 * * *',
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        success: true,
        task: { id: created.id, name: 'Updated Task Name', enabled: false, cronExpression: '0 3 * * *', nextRun: null },
      });
      // Re-enabling computes the next slot of the new expression.
      const enabled = await t.api.put(`/api/v1/tasks/${created.id}`, { enabled: true });
      expect(new Date(enabled.body.task.nextRun).getUTCHours()).toBe(3);
      expect(new Date(enabled.body.task.nextRun).getUTCMinutes()).toBe(0);
    });

    it('DELETE answers the seed shape and the task is gone, with its executions', async () => {
      const project = await createProject(t.api);
      const created = await createTask(t.api, project.id);
      const executions = t.app.get(DataSource).getRepository(Execution);
      await executions.insert({
        id: `exec-${created.id.slice(5)}`,
        taskId: created.id,
        trigger: 'manual',
        triggeredBy: 'admin-env',
        scheduledFor: null,
        executedAt: new Date(),
        finishedAt: new Date(),
        status: 'success',
        duration: 5,
        result: null,
        error: null,
      });

      const response = await t.api.delete(`/api/v1/tasks/${created.id}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true, message: 'Task deleted' });
      expect((await t.api.get(`/api/v1/tasks/${created.id}`)).status).toBe(404);
      expect(await executions.countBy({ taskId: created.id })).toBe(0);
      expect((await t.api.delete(`/api/v1/tasks/${created.id}`)).body).toEqual({ success: false, error: 'Task not found' });
    });
  });

  describe('history', () => {
    it('lists the most recent executions, newest first, in the execution shape', async () => {
      const project = await createProject(t.api);
      const task = await createTask(t.api, project.id);
      const executions = t.app.get(DataSource).getRepository(Execution);
      const base = Date.UTC(2026, 0, 19, 7, 0, 0);
      for (let i = 0; i < 12; i++) {
        await executions.insert({
          id: `exec-${task.id.slice(5, 13)}${String(i).padStart(8, '0')}`,
          taskId: task.id,
          trigger: 'schedule',
          triggeredBy: null,
          scheduledFor: new Date(base + i * 60_000),
          executedAt: new Date(base + i * 60_000 + 150),
          finishedAt: new Date(base + i * 60_000 + 120_150),
          status: i % 2 ? 'success' : 'failed',
          duration: 120_000,
          result: { backupId: `backup-${i}`, size: 52428800 },
          error: i % 2 ? null : 'boom',
        });
      }
      const response = await t.api.get(`/api/v1/tasks/${task.id}`);
      const history = response.body.history;
      expect(history).toHaveLength(10);
      expect(history[0]).toEqual({
        id: expect.stringMatching(/^exec-/),
        taskId: task.id,
        trigger: 'schedule',
        triggeredBy: null,
        scheduledFor: new Date(base + 11 * 60_000).toISOString(),
        executedAt: new Date(base + 11 * 60_000 + 150).toISOString(),
        finishedAt: new Date(base + 11 * 60_000 + 120_150).toISOString(),
        status: 'success',
        duration: 120000,
        result: { backupId: 'backup-11', size: 52428800 },
        error: null,
      });
      const times = history.map((entry: { executedAt: string }) => Date.parse(entry.executedAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });
  });

  describe('create', () => {
    it('fills defaults: enabled, timezone, each config, timeoutSeconds by type', async () => {
      const project = await createProject(t.api);
      const expectations = {
        'health-check': {
          healthCheckConfig: { checkContainers: true, checkConnectivity: true, alertOnFailure: false, endpoints: [] },
          timeoutSeconds: 60,
        },
        backup: {
          backupConfig: {
            type: 'full',
            destination: 'local',
            encrypt: false,
            stopContainers: false,
            retention: null,
            hooks: { before: [], after: [] },
          },
          timeoutSeconds: 7200,
        },
        'container-update': { containerUpdateConfig: { pullImages: true, restartAfterUpdate: true }, timeoutSeconds: 1800 },
      };
      for (const [type, expected] of Object.entries(expectations)) {
        const response = await t.api.post('/api/v1/tasks', {
          name: 'defaults',
          type,
          projectId: project.id,
          cronExpression: '@daily',
        });
        expect(response.status).toBe(201);
        expect(response.body.task).toMatchObject({ enabled: true, timezone: 'UTC', ...expected });
      }
    });

    it('keeps nested config values and fills endpoint defaults', async () => {
      const project = await createProject(t.api);
      const response = await t.api.post('/api/v1/tasks', {
        ...taskBody(project.id),
        timeoutSeconds: 30,
        healthCheckConfig: {
          checkConnectivity: false,
          endpoints: [{ url: 'http://127.0.0.1:8080/healthz' }, { url: 'https://app.internal/ready', expectStatus: 204, timeoutMs: 1500 }],
        },
      });
      expect(response.status).toBe(201);
      expect(response.body.task.timeoutSeconds).toBe(30);
      expect(response.body.task.healthCheckConfig).toEqual({
        checkContainers: true,
        checkConnectivity: false,
        alertOnFailure: false,
        endpoints: [
          { url: 'http://127.0.0.1:8080/healthz', expectStatus: 200, timeoutMs: 5000 },
          { url: 'https://app.internal/ready', expectStatus: 204, timeoutMs: 1500 },
        ],
      });
    });

    it('stores a backup config with retention and hooks', async () => {
      const project = await createProject(t.api);
      const backupConfig = {
        type: 'volumes',
        destination: 'local',
        encrypt: false,
        stopContainers: true,
        retention: { keepLast: 7 },
        hooks: { before: [{ container: 'db', command: 'pg_dump -f /backup/db.sql' }] },
      };
      const created = await createTask(t.api, project.id, { type: 'backup', backupConfig });
      const fetched = await t.api.get(`/api/v1/tasks/${created.id}`);
      expect(fetched.body.backupConfig).toEqual({ ...backupConfig, hooks: { before: backupConfig.hooks.before, after: [] } });
    });

    it('a disabled task has no nextRun', async () => {
      const project = await createProject(t.api);
      const task = await createTask(t.api, project.id, { enabled: false });
      expect(task.nextRun).toBeNull();
    });
  });

  describe('update', () => {
    it('is partial: absent fields stay, a given config replaces the old one with defaults filled', async () => {
      const project = await createProject(t.api);
      const created = await createTask(t.api, project.id, {
        type: 'backup',
        timezone: 'Europe/Berlin',
        backupConfig: { destination: 's3', encrypt: true, retention: { keepLast: 3 } },
      });
      const renamed = await t.api.put(`/api/v1/tasks/${created.id}`, { name: 'Renamed' });
      expect(renamed.body.task).toMatchObject({
        name: 'Renamed',
        timezone: 'Europe/Berlin',
        cronExpression: created.cronExpression,
        backupConfig: created.backupConfig,
        nextRun: created.nextRun,
      });

      const replaced = await t.api.put(`/api/v1/tasks/${created.id}`, { backupConfig: { type: 'config' } });
      expect(replaced.status).toBe(200);
      expect(replaced.body.task.backupConfig).toEqual({
        type: 'config',
        destination: 'local',
        encrypt: false,
        stopContainers: false,
        retention: null,
        hooks: { before: [], after: [] },
      });
      expect(Date.parse(replaced.body.task.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
    });

    it('recomputes nextRun when the schedule or time zone changes', async () => {
      const project = await createProject(t.api);
      const created = await createTask(t.api, project.id, { cronExpression: '0 12 * * *', timezone: 'UTC' });
      expect(new Date(created.nextRun).getUTCHours()).toBe(12);
      const moved = await t.api.put(`/api/v1/tasks/${created.id}`, { timezone: 'Asia/Kolkata' });
      // 12:00 in India is 06:30Z.
      expect(new Date(moved.body.task.nextRun).toISOString().slice(11, 16)).toBe('06:30');
    });

    it('can move a task to another project, whose name it then shows', async () => {
      const first = await createProject(t.api);
      const second = await createProject(t.api, { name: 'Second' });
      const created = await createTask(t.api, first.id);
      const moved = await t.api.put(`/api/v1/tasks/${created.id}`, { projectId: second.id });
      expect(moved.body.task).toMatchObject({ projectId: second.id, projectName: 'Second' });
      expect((await t.api.get(`/api/v1/tasks/${created.id}`)).body.projectId).toBe(second.id);
    });

    it('accepts the current type, refuses another', async () => {
      const project = await createProject(t.api);
      const created = await createTask(t.api, project.id);
      expect((await t.api.put(`/api/v1/tasks/${created.id}`, { type: 'health-check' })).status).toBe(200);
      const changed = await t.api.put(`/api/v1/tasks/${created.id}`, { type: 'backup' });
      expect(changed.status).toBe(400);
      expect(changed.body).toMatchObject({ success: false, error: 'Validation failed', details: [{ field: 'type' }] });
    });

    it('an empty body changes nothing', async () => {
      const project = await createProject(t.api);
      const created = await createTask(t.api, project.id);
      const response = await t.api.put(`/api/v1/tasks/${created.id}`, {});
      expect(response.status).toBe(200);
      expect(response.body.task).toMatchObject({ name: created.name, cronExpression: created.cronExpression });
    });
  });

  describe('list', () => {
    let projectA: string;
    let projectB: string;
    beforeAll(async () => {
      projectA = (await createProject(t.api, { name: 'Alpha' })).id;
      projectB = (await createProject(t.api)).id;
      await createTask(t.api, projectA, { type: 'backup', name: 'a-backup' });
      await createTask(t.api, projectA, { type: 'health-check', name: 'a-health', enabled: false });
      await createTask(t.api, projectA, { type: 'container-update', name: 'a-update' });
      await createTask(t.api, projectB, { type: 'backup', name: 'b-backup' });
    });

    it('answers the seed shape plus total', async () => {
      const response = await t.api.get(`/api/v1/tasks?projectId=${projectA}`);
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['tasks', 'total']);
      expect(response.body.total).toBe(3);
      const backup = response.body.tasks.find((task: { name: string }) => task.name === 'a-backup');
      expect(Object.keys(backup).sort()).toEqual(
        [
          'id',
          'name',
          'type',
          'enabled',
          'projectId',
          'projectName',
          'cronExpression',
          'timezone',
          'nextRun',
          'lastRun',
          'lastStatus',
          'createdAt',
          'updatedAt',
        ].sort(),
      );
      expect(backup.projectName).toBe('Alpha');
    });

    it('filters by type and enabled, combined with project', async () => {
      const backups = await t.api.get(`/api/v1/tasks?type=backup&projectId=${projectA}`);
      expect(backups.body.tasks.map((task: { name: string }) => task.name)).toEqual(['a-backup']);
      const disabled = await t.api.get(`/api/v1/tasks?enabled=false&projectId=${projectA}`);
      expect(disabled.body.tasks.map((task: { name: string }) => task.name)).toEqual(['a-health']);
      const enabled = await t.api.get(`/api/v1/tasks?enabled=true&projectId=${projectA}`);
      expect(enabled.body.total).toBe(2);
      const allBackups = await t.api.get('/api/v1/tasks?type=backup&limit=1000');
      const names = allBackups.body.tasks.map((task: { name: string }) => task.name);
      expect(names).toEqual(expect.arrayContaining(['a-backup', 'b-backup']));
      expect(allBackups.body.tasks.every((task: { type: string }) => task.type === 'backup')).toBe(true);
    });

    it('pages with limit and offset; total counts all matches', async () => {
      const page1 = await t.api.get(`/api/v1/tasks?projectId=${projectA}&limit=2`);
      const page2 = await t.api.get(`/api/v1/tasks?projectId=${projectA}&limit=2&offset=2`);
      expect(page1.body.tasks).toHaveLength(2);
      expect(page2.body.tasks).toHaveLength(1);
      expect(page1.body.total).toBe(3);
      expect(page2.body.total).toBe(3);
      const ids = [...page1.body.tasks, ...page2.body.tasks].map((task: { id: string }) => task.id);
      expect(new Set(ids).size).toBe(3);
      const beyond = await t.api.get(`/api/v1/tasks?projectId=${projectA}&offset=10`);
      expect(beyond.body).toEqual({ tasks: [], total: 3 });
    });

    it('an unknown project filter finds nothing', async () => {
      expect((await t.api.get('/api/v1/tasks?projectId=does-not-exist')).body).toEqual({ tasks: [], total: 0 });
    });
  });
});
