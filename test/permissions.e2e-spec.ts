import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_KEY, startTestApp, usingPostgres, type TestApp } from './support/test-app';
import type { ApiClient } from './support/api-client';
import { createApiKey, createProject, createTask, taskBody } from './support/factories';

const UNAUTHORIZED = { success: false, error: 'Unauthorized' };
const TASK_NOT_FOUND = { success: false, error: 'Task not found' };
const PROJECT_NOT_FOUND = { success: false, error: 'Project not found' };
const PREVIEW = '/api/v1/cron/preview?expression=*%20*%20*%20*%20*';
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const sha256Hex = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 403 body: `Forbidden`, with details naming the permission. */
function expectForbidden(response: { status: number; body: any }, permission?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(403);
  expect(response.body.success).toBe(false);
  expect(response.body.error).toBe('Forbidden');
  expect(Object.keys(response.body).sort()).toEqual(['details', 'error', 'success']);
  if (permission) expect(JSON.stringify(response.body.details)).toContain(permission);
}

describe('permissions (e2e)', () => {
  let testApp: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    api = testApp.api;
  });

  afterAll(async () => {
    await testApp?.close();
  });

  describe('authentication', () => {
    let project: { id: string };
    let task: { id: string };

    beforeAll(async () => {
      project = await createProject(api);
      task = await createTask(api, project.id);
    });

    const protectedRoutes = (): Array<[string, string, unknown?]> => [
      ['GET', '/api/v1/tasks'],
      ['GET', `/api/v1/tasks/${task.id}`],
      ['POST', '/api/v1/tasks', taskBody(project.id)],
      ['PUT', `/api/v1/tasks/${task.id}`, { name: 'renamed' }],
      ['DELETE', `/api/v1/tasks/${task.id}`],
      ['GET', '/api/v1/projects'],
      ['POST', '/api/v1/projects', { id: 'never-created-401', name: 'x' }],
      ['GET', `/api/v1/projects/${project.id}`],
      ['PUT', `/api/v1/projects/${project.id}`, { name: 'renamed' }],
      ['DELETE', `/api/v1/projects/${project.id}`],
      ['GET', '/api/v1/api-keys'],
      ['POST', '/api/v1/api-keys', { name: 'x', permissions: ['*'] }],
      ['DELETE', '/api/v1/api-keys/key-0000000000000000'],
      ['GET', PREVIEW],
      ['GET', '/api/v1/me'],
    ];

    it('no key → 401 Unauthorized on every protected route, and nothing changes', async () => {
      for (const [method, path, body] of protectedRoutes()) {
        const response = await api.request(method, path, { key: null, body });
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(response.body, `${method} ${path}`).toEqual(UNAUTHORIZED);
      }
      // The task and the project survived the DELETE attempts, unchanged.
      const got = await api.get(`/api/v1/tasks/${task.id}`);
      expect(got.status).toBe(200);
      expect(got.body.name).toBe((task as any).name);
      expect((await api.get(`/api/v1/projects/${project.id}`)).body.name).toBe(`Project ${project.id}`);
      expect((await api.get('/api/v1/projects/never-created-401')).status).toBe(404);
    });

    it('an unknown key → 401 on every protected route (Bearer and X-API-Key)', async () => {
      for (const [method, path, body] of protectedRoutes()) {
        const bearer = await api.request(method, path, { key: 'dts_unknownunknownunknownunknownunknownunknown1', body });
        expect(bearer.status, `${method} ${path}`).toBe(401);
        expect(bearer.body).toEqual(UNAUTHORIZED);
        const header = await api.request(method, path, { key: null, headers: { 'X-API-Key': `${ADMIN_KEY}-not` }, body });
        expect(header.status, `${method} ${path}`).toBe(401);
        expect(header.body).toEqual(UNAUTHORIZED);
      }
    });

    it('Authorization: Bearer and X-API-Key both authenticate', async () => {
      const bearer = await api.get('/api/v1/me', { key: null, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(bearer.status).toBe(200);
      expect(bearer.body.keyId).toBe('admin-env');
      const header = await api.get('/api/v1/me', { key: null, headers: { 'X-API-Key': ADMIN_KEY } });
      expect(header.status).toBe(200);
      expect(header.body.keyId).toBe('admin-env');

      const minted = await createApiKey(api, ['tasks:read']);
      const viaHeader = await api.get(`/api/v1/tasks/${task.id}`, { key: null, headers: { 'X-API-Key': minted.key } });
      expect(viaHeader.status).toBe(200);
      expect(viaHeader.body.id).toBe(task.id);
      const viaBearer = await api.get(`/api/v1/tasks/${task.id}`, { key: minted.key });
      expect(viaBearer.status).toBe(200);
    });

    it('a malformed Authorization header → 401', async () => {
      for (const authorization of [`Basic ${Buffer.from(`x:${ADMIN_KEY}`).toString('base64')}`, ADMIN_KEY, 'Bearer', `Token ${ADMIN_KEY}`]) {
        const response = await api.get('/api/v1/me', { key: null, headers: { authorization } });
        expect(response.status, authorization).toBe(401);
        expect(response.body).toEqual(UNAUTHORIZED);
      }
    });

    it('public routes need no key: /health, /health/ready, /api/docs-json', async () => {
      const health = await api.get('/health', { key: null });
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('ok');
      const ready = await api.get('/health/ready', { key: null });
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ok');
      const docs = await api.get('/api/docs-json', { key: null });
      expect(docs.status).toBe(200);
      expect(typeof docs.body.openapi).toBe('string');
      expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/v1/tasks', '/api/v1/api-keys']));
      // A bad key on a public route does not turn it into a 401.
      expect((await api.get('/health', { key: 'nonsense' })).status).toBe(200);
    });
  });

  describe('the permission matrix', () => {
    let project: { id: string };
    let task: { id: string };
    const keys: Record<string, string> = {};

    beforeAll(async () => {
      project = await createProject(api);
      task = await createTask(api, project.id);
      keys.reader = (await createApiKey(api, ['tasks:read'])).key;
      keys.writer = (await createApiKey(api, ['tasks:write'])).key;
      keys.projectsReader = (await createApiKey(api, ['projects:read'])).key;
      keys.projectsWriter = (await createApiKey(api, ['projects:write'])).key;
      keys.manager = (await createApiKey(api, ['api-keys:manage'])).key;
    });

    it('tasks:read can list and get tasks, and preview cron', async () => {
      const list = await api.get(`/api/v1/tasks?projectId=${project.id}`, { key: keys.reader });
      expect(list.status).toBe(200);
      expect(list.body.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
      expect(list.body.total).toBe(1);
      const one = await api.get(`/api/v1/tasks/${task.id}`, { key: keys.reader });
      expect(one.status).toBe(200);
      expect(one.body.id).toBe(task.id);
      const preview = await api.get(PREVIEW, { key: keys.reader });
      expect(preview.status).toBe(200);
      expect(preview.body.nextRuns).toHaveLength(5);
    });

    it('tasks:read gets 403 naming tasks:write on create, update and delete; nothing changes', async () => {
      expectForbidden(await api.post('/api/v1/tasks', taskBody(project.id), { key: keys.reader }), 'tasks:write');
      expectForbidden(await api.put(`/api/v1/tasks/${task.id}`, { name: 'renamed by reader' }, { key: keys.reader }), 'tasks:write');
      expectForbidden(await api.delete(`/api/v1/tasks/${task.id}`, { key: keys.reader }), 'tasks:write');
      const after = await api.get(`/api/v1/tasks/${task.id}`);
      expect(after.status).toBe(200);
      expect(after.body.name).toBe((task as any).name);
      expect((await api.get(`/api/v1/tasks?projectId=${project.id}`)).body.total).toBe(1);
    });

    it('tasks:read cannot reach projects or API keys', async () => {
      expectForbidden(await api.get('/api/v1/projects', { key: keys.reader }), 'projects:read');
      expectForbidden(await api.get(`/api/v1/projects/${project.id}`, { key: keys.reader }), 'projects:read');
      expectForbidden(await api.get('/api/v1/api-keys', { key: keys.reader }), 'api-keys:manage');
      expectForbidden(await api.post('/api/v1/api-keys', { name: 'x', permissions: ['tasks:read'] }, { key: keys.reader }), 'api-keys:manage');
    });

    it('tasks:write without tasks:read gets 403 on list, get and preview, but can create, update and delete', async () => {
      expectForbidden(await api.get('/api/v1/tasks', { key: keys.writer }), 'tasks:read');
      expectForbidden(await api.get(`/api/v1/tasks/${task.id}`, { key: keys.writer }), 'tasks:read');
      expectForbidden(await api.get(PREVIEW, { key: keys.writer }), 'tasks:read');

      const created = await api.post('/api/v1/tasks', taskBody(project.id), { key: keys.writer });
      expect(created.status).toBe(201);
      expect(created.body.success).toBe(true);
      const id = created.body.task.id;
      const updated = await api.put(`/api/v1/tasks/${id}`, { name: 'renamed by writer' }, { key: keys.writer });
      expect(updated.status).toBe(200);
      expect(updated.body.task.name).toBe('renamed by writer');
      const deleted = await api.delete(`/api/v1/tasks/${id}`, { key: keys.writer });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ success: true, message: 'Task deleted' });
      expect((await api.get(`/api/v1/tasks/${id}`)).status).toBe(404);
    });

    it('projects:read can list and get projects but not write them', async () => {
      const list = await api.get('/api/v1/projects', { key: keys.projectsReader });
      expect(list.status).toBe(200);
      expect(list.body.projects.map((p: { id: string }) => p.id)).toContain(project.id);
      const one = await api.get(`/api/v1/projects/${project.id}`, { key: keys.projectsReader });
      expect(one.status).toBe(200);
      expect(one.body.id).toBe(project.id);
      expectForbidden(await api.post('/api/v1/projects', { id: 'never-made-by-reader', name: 'x' }, { key: keys.projectsReader }), 'projects:write');
      expectForbidden(await api.put(`/api/v1/projects/${project.id}`, { name: 'x' }, { key: keys.projectsReader }), 'projects:write');
      expectForbidden(await api.delete(`/api/v1/projects/${project.id}`, { key: keys.projectsReader }), 'projects:write');
      expectForbidden(await api.get('/api/v1/tasks', { key: keys.projectsReader }), 'tasks:read');
      expect((await api.get('/api/v1/projects/never-made-by-reader')).status).toBe(404);
    });

    it('projects:write can create, update and delete projects but not read them', async () => {
      expectForbidden(await api.get('/api/v1/projects', { key: keys.projectsWriter }), 'projects:read');
      expectForbidden(await api.get(`/api/v1/projects/${project.id}`, { key: keys.projectsWriter }), 'projects:read');
      const id = `pw-${Date.now().toString(36)}`;
      const created = await api.post('/api/v1/projects', { id, name: 'By writer' }, { key: keys.projectsWriter });
      expect(created.status).toBe(201);
      expect(created.body.project.id).toBe(id);
      const updated = await api.put(`/api/v1/projects/${id}`, { name: 'By writer 2' }, { key: keys.projectsWriter });
      expect(updated.status).toBe(200);
      expect(updated.body.project.name).toBe('By writer 2');
      const deleted = await api.delete(`/api/v1/projects/${id}`, { key: keys.projectsWriter });
      expect(deleted.status).toBe(200);
      expect((await api.get(`/api/v1/projects/${id}`)).status).toBe(404);
      expectForbidden(await api.post('/api/v1/tasks', taskBody(project.id), { key: keys.projectsWriter }), 'tasks:write');
    });

    it('api-keys:manage can list and mint keys (within its own permissions), nothing else', async () => {
      const list = await api.get('/api/v1/api-keys', { key: keys.manager });
      expect(list.status).toBe(200);
      expect(Array.isArray(list.body.apiKeys)).toBe(true);
      const minted = await api.post('/api/v1/api-keys', { name: 'sub-manager', permissions: ['api-keys:manage'] }, { key: keys.manager });
      expect(minted.status).toBe(201);
      expectForbidden(await api.get('/api/v1/tasks', { key: keys.manager }), 'tasks:read');
      expectForbidden(await api.get('/api/v1/projects', { key: keys.manager }), 'projects:read');
    });

    it('/me answers any valid key, whatever its permissions', async () => {
      for (const key of Object.values(keys)) {
        const me = await api.get('/api/v1/me', { key });
        expect(me.status).toBe(200);
        expect(me.body.keyId).toMatch(/^key-/);
      }
    });

    it('order: 401 before 403 before 400 body validation before 404', async () => {
      const invalid = { name: 42, type: 'nonsense' };
      const anonymous = await api.post('/api/v1/tasks', invalid, { key: null });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual(UNAUTHORIZED);
      const unknownKey = await api.post('/api/v1/tasks', invalid, { key: 'dts_nope' });
      expect(unknownKey.status).toBe(401);
      expectForbidden(await api.post('/api/v1/tasks', invalid, { key: keys.reader }), 'tasks:write');
      expectForbidden(await api.put('/api/v1/tasks/task-doesnotexist0000', invalid, { key: keys.reader }), 'tasks:write');
      const writer = await api.post('/api/v1/tasks', invalid, { key: keys.writer });
      expect(writer.status).toBe(400);
      expect(writer.body.error).toBe('Validation failed');
      const writerPut = await api.put('/api/v1/tasks/task-doesnotexist0000', { enabled: 'yes' }, { key: keys.writer });
      expect(writerPut.status).toBe(400);
      expect(writerPut.body.error).toBe('Validation failed');
      const writerPutValid = await api.put('/api/v1/tasks/task-doesnotexist0000', { name: 'ok' }, { key: keys.writer });
      expect(writerPutValid.status).toBe(404);
      expect(writerPutValid.body).toEqual(TASK_NOT_FOUND);
      // Same on project routes: a projects:read key posting garbage is refused, not validated.
      expectForbidden(await api.post('/api/v1/projects', { id: 'BAD ID' }, { key: keys.projectsReader }), 'projects:write');
      // And on the query of the list route.
      expectForbidden(await api.get('/api/v1/tasks?limit=0', { key: keys.writer }), 'tasks:read');
    });
  });

  describe('host commands', () => {
    let project: { id: string };
    let writer: string;
    let hostWriter: string;
    const hostCommand = (overrides: Record<string, unknown> = {}) => ({
      type: 'custom',
      customConfig: { command: 'echo hello' },
      ...overrides,
    });

    beforeAll(async () => {
      project = await createProject(api);
      writer = (await createApiKey(api, ['tasks:read', 'tasks:write'])).key;
      hostWriter = (await createApiKey(api, ['tasks:read', 'tasks:write', 'tasks:host-commands'])).key;
    });

    it('a custom task without container needs tasks:host-commands besides tasks:write', async () => {
      const refused = await api.post('/api/v1/tasks', taskBody(project.id, hostCommand()), { key: writer });
      expectForbidden(refused, 'tasks:host-commands');
      const nullContainer = await api.post(
        '/api/v1/tasks',
        taskBody(project.id, hostCommand({ customConfig: { command: 'echo hi', container: null } })),
        { key: writer },
      );
      expectForbidden(nullContainer, 'tasks:host-commands');
      expect((await api.get(`/api/v1/tasks?projectId=${project.id}&type=custom`)).body.total).toBe(0);

      const allowed = await api.post('/api/v1/tasks', taskBody(project.id, hostCommand()), { key: hostWriter });
      expect(allowed.status).toBe(201);
      expect(allowed.body.task.customConfig).toEqual({ command: 'echo hello', container: null });
    });

    it('tasks:host-commands alone is not enough: tasks:write is still needed', async () => {
      const hostsOnly = (await createApiKey(api, ['tasks:host-commands'])).key;
      expectForbidden(await api.post('/api/v1/tasks', taskBody(project.id, hostCommand()), { key: hostsOnly }), 'tasks:write');
    });

    it('a custom task with a container needs only tasks:write', async () => {
      const created = await api.post(
        '/api/v1/tasks',
        taskBody(project.id, hostCommand({ customConfig: { command: 'echo hi', container: 'db' } })),
        { key: writer },
      );
      expect(created.status).toBe(201);
      expect(created.body.task.customConfig).toEqual({ command: 'echo hi', container: 'db' });

      // Turning it into a host command by dropping the container is refused.
      const refused = await api.put(`/api/v1/tasks/${created.body.task.id}`, { customConfig: { command: 'echo hi' } }, { key: writer });
      expectForbidden(refused, 'tasks:host-commands');
      expect((await api.get(`/api/v1/tasks/${created.body.task.id}`)).body.customConfig.container).toBe('db');

      // Other types never need it.
      const health = await api.post('/api/v1/tasks', taskBody(project.id), { key: writer });
      expect(health.status).toBe(201);
    });

    it('updating or deleting an existing host-command task needs tasks:host-commands', async () => {
      const task = await createTask(api, project.id, hostCommand());
      expectForbidden(await api.put(`/api/v1/tasks/${task.id}`, { name: 'renamed' }, { key: writer }), 'tasks:host-commands');
      expectForbidden(await api.put(`/api/v1/tasks/${task.id}`, { enabled: false }, { key: writer }), 'tasks:host-commands');
      // Even giving it a container (making it safe) is touching a host-command task.
      expectForbidden(
        await api.put(`/api/v1/tasks/${task.id}`, { customConfig: { command: 'echo x', container: 'db' } }, { key: writer }),
        'tasks:host-commands',
      );
      expectForbidden(await api.delete(`/api/v1/tasks/${task.id}`, { key: writer }), 'tasks:host-commands');
      const unchanged = await api.get(`/api/v1/tasks/${task.id}`, { key: writer });
      expect(unchanged.status).toBe(200);
      expect(unchanged.body.name).toBe(task.name);
      expect(unchanged.body.enabled).toBe(true);
      expect(unchanged.body.customConfig).toEqual({ command: 'echo hello', container: null });

      const renamed = await api.put(`/api/v1/tasks/${task.id}`, { name: 'renamed' }, { key: hostWriter });
      expect(renamed.status).toBe(200);
      expect(renamed.body.task.name).toBe('renamed');
      const deleted = await api.delete(`/api/v1/tasks/${task.id}`, { key: hostWriter });
      expect(deleted.status).toBe(200);
      expect((await api.get(`/api/v1/tasks/${task.id}`)).status).toBe(404);
    });
  });

  describe('project-scoped keys', () => {
    let projectA: { id: string; name: string };
    let projectB: { id: string; name: string };
    let tasksA: Array<Record<string, any> & { id: string }>;
    let taskB: Record<string, any> & { id: string };
    let scoped: { id: string; key: string };

    beforeAll(async () => {
      projectA = await createProject(api);
      projectB = await createProject(api);
      tasksA = [await createTask(api, projectA.id), await createTask(api, projectA.id, { type: 'backup' })];
      taskB = await createTask(api, projectB.id);
      scoped = await createApiKey(api, ['*'], { projectIds: [projectA.id] });
    });

    it('lists only its projects\' tasks, and total counts only those', async () => {
      const list = await api.get('/api/v1/tasks?limit=1000', { key: scoped.key });
      expect(list.status).toBe(200);
      expect(list.body.tasks.map((t: { id: string }) => t.id).sort()).toEqual(tasksA.map((t) => t.id).sort());
      expect(list.body.total).toBe(2);
      expect(list.body.tasks.every((t: { projectId: string }) => t.projectId === projectA.id)).toBe(true);

      const paged = await api.get('/api/v1/tasks?limit=1', { key: scoped.key });
      expect(paged.body.tasks).toHaveLength(1);
      expect(paged.body.total).toBe(2);
      const filtered = await api.get('/api/v1/tasks?type=backup', { key: scoped.key });
      expect(filtered.body.tasks.map((t: { id: string }) => t.id)).toEqual([tasksA[1].id]);
      expect(filtered.body.total).toBe(1);
    });

    it('GET /tasks?projectId=<other project> returns nothing', async () => {
      const list = await api.get(`/api/v1/tasks?projectId=${projectB.id}`, { key: scoped.key });
      expect(list.status).toBe(200);
      expect(list.body.tasks).toEqual([]);
      expect(list.body.total).toBe(0);
      // The admin sees B's task there.
      expect((await api.get(`/api/v1/tasks?projectId=${projectB.id}`)).body.total).toBe(1);
    });

    it('a task of another project is 404 Task not found on GET, PUT and DELETE, and is untouched', async () => {
      const get = await api.get(`/api/v1/tasks/${taskB.id}`, { key: scoped.key });
      expect(get.status).toBe(404);
      expect(get.body).toEqual(TASK_NOT_FOUND);
      const put = await api.put(`/api/v1/tasks/${taskB.id}`, { name: 'hijacked' }, { key: scoped.key });
      expect(put.status).toBe(404);
      expect(put.body).toEqual(TASK_NOT_FOUND);
      const del = await api.delete(`/api/v1/tasks/${taskB.id}`, { key: scoped.key });
      expect(del.status).toBe(404);
      expect(del.body).toEqual(TASK_NOT_FOUND);
      const still = await api.get(`/api/v1/tasks/${taskB.id}`);
      expect(still.status).toBe(200);
      expect(still.body.name).toBe(taskB.name);
    });

    it('its own tasks can be read, updated and deleted', async () => {
      const own = await createTask(api, projectA.id);
      expect((await api.get(`/api/v1/tasks/${own.id}`, { key: scoped.key })).status).toBe(200);
      const put = await api.put(`/api/v1/tasks/${own.id}`, { name: 'mine' }, { key: scoped.key });
      expect(put.status).toBe(200);
      expect(put.body.task.name).toBe('mine');
      expect((await api.delete(`/api/v1/tasks/${own.id}`, { key: scoped.key })).status).toBe(200);
    });

    it('creating a task in another project is 400 Project not found', async () => {
      const response = await api.post('/api/v1/tasks', taskBody(projectB.id), { key: scoped.key });
      expect(response.status).toBe(400);
      expect(response.body).toEqual(PROJECT_NOT_FOUND);
      expect((await api.get(`/api/v1/tasks?projectId=${projectB.id}`)).body.total).toBe(1);
      const own = await api.post('/api/v1/tasks', taskBody(projectA.id), { key: scoped.key });
      expect(own.status).toBe(201);
      await api.delete(`/api/v1/tasks/${own.body.task.id}`);
    });

    it('moving a task to another project via PUT is 400 Project not found', async () => {
      const response = await api.put(`/api/v1/tasks/${tasksA[0].id}`, { projectId: projectB.id }, { key: scoped.key });
      expect(response.status).toBe(400);
      expect(response.body).toEqual(PROJECT_NOT_FOUND);
      const after = await api.get(`/api/v1/tasks/${tasksA[0].id}`);
      expect(after.body.projectId).toBe(projectA.id);
      const missing = await api.put(`/api/v1/tasks/${tasksA[0].id}`, { projectId: 'no-such-project-x' }, { key: scoped.key });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(PROJECT_NOT_FOUND);
    });

    it('the projects list shows only its projects', async () => {
      const list = await api.get('/api/v1/projects', { key: scoped.key });
      expect(list.status).toBe(200);
      expect(list.body.projects.map((p: { id: string }) => p.id)).toEqual([projectA.id]);
    });

    it('GET, PUT and DELETE of another project are 404 Project not found, and it is untouched', async () => {
      for (const response of [
        await api.get(`/api/v1/projects/${projectB.id}`, { key: scoped.key }),
        await api.put(`/api/v1/projects/${projectB.id}`, { name: 'hijacked' }, { key: scoped.key }),
        await api.delete(`/api/v1/projects/${projectB.id}`, { key: scoped.key }),
      ]) {
        expect(response.status).toBe(404);
        expect(response.body).toEqual(PROJECT_NOT_FOUND);
      }
      const still = await api.get(`/api/v1/projects/${projectB.id}`);
      expect(still.status).toBe(200);
      expect(still.body.name).toBe(projectB.name);
      // Its own project it can read and update.
      expect((await api.get(`/api/v1/projects/${projectA.id}`, { key: scoped.key })).status).toBe(200);
      const put = await api.put(`/api/v1/projects/${projectA.id}`, { description: 'scoped edit' }, { key: scoped.key });
      expect(put.status).toBe(200);
      expect(put.body.project.description).toBe('scoped edit');
    });

    it('cannot create projects (403), even holding *', async () => {
      const response = await api.post('/api/v1/projects', { id: `scoped-${Date.now().toString(36)}`, name: 'x' }, { key: scoped.key });
      expectForbidden(response);
      expect((await api.get(`/api/v1/projects/${projectA.id}-not`)).status).toBe(404);
    });

    it('POST /projects with an invalid body is still 403 for a scoped key (403 before 400)', async () => {
      expectForbidden(await api.post('/api/v1/projects', { id: 'NOT VALID' }, { key: scoped.key }));
    });

    it('/me reports the scope', async () => {
      const me = await api.get('/api/v1/me', { key: scoped.key });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ keyId: scoped.id, permissions: ['*'], projectIds: [projectA.id] });
    });
  });

  describe('expiry and revocation', () => {
    it('a key is refused once its expiresAt has passed', async () => {
      const expiresAt = new Date(Date.now() + 2000);
      const response = await api.post('/api/v1/api-keys', { name: 'short-lived', permissions: ['tasks:read'], expiresAt: expiresAt.toISOString() });
      expect(response.status).toBe(201);
      expect(response.body.apiKey.expiresAt).toBe(expiresAt.toISOString());
      const key = response.body.key as string;
      expect((await api.get('/api/v1/tasks?limit=1', { key })).status).toBe(200);
      await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 250);
      const expired = await api.get('/api/v1/tasks?limit=1', { key });
      expect(expired.status).toBe(401);
      expect(expired.body).toEqual(UNAUTHORIZED);
      expect((await api.get('/api/v1/me', { key: null, headers: { 'X-API-Key': key } })).status).toBe(401);
    });

    it('expiresAt in the past (or now) at creation is 400 Validation failed naming expiresAt', async () => {
      for (const expiresAt of [new Date(Date.now() - 1000).toISOString(), '2001-01-01T00:00:00Z']) {
        const response = await api.post('/api/v1/api-keys', { name: 'stale', permissions: ['tasks:read'], expiresAt });
        expect(response.status).toBe(400);
        expect(response.body.success).toBe(false);
        expect(response.body.error).toBe('Validation failed');
        expect(JSON.stringify(response.body.details)).toContain('expiresAt');
      }
      const malformed = await api.post('/api/v1/api-keys', { name: 'stale', permissions: ['tasks:read'], expiresAt: 'tomorrow' });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('Validation failed');
    });

    it('a key that expires cannot mint one that outlives it; what it mints inherits its expiry', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000);
      const manager = await createApiKey(api, ['tasks:read', 'api-keys:manage'], { expiresAt: expiresAt.toISOString() });
      const forever = await api.post('/api/v1/api-keys', { name: 'forever', permissions: ['tasks:read'] }, { key: manager.key });
      expect(forever.status).toBe(201);
      expect(forever.body.apiKey.expiresAt).toBe(expiresAt.toISOString());
      const later = new Date(expiresAt.getTime() + 1000).toISOString();
      const outliving = await api.post('/api/v1/api-keys', { name: 'later', permissions: ['tasks:read'], expiresAt: later }, { key: manager.key });
      expect(outliving.status).toBe(403);
      expect(outliving.body.error).toBe('Forbidden');
      const sooner = new Date(expiresAt.getTime() - 1000).toISOString();
      expect((await api.post('/api/v1/api-keys', { name: 'sooner', permissions: ['tasks:read'], expiresAt: sooner }, { key: manager.key })).status).toBe(201);
    });

    it('a revoked key is refused on its next request; revoking an unknown id is 404', async () => {
      const minted = await createApiKey(api, ['tasks:read']);
      expect((await api.get('/api/v1/me', { key: minted.key })).status).toBe(200);
      const revoked = await api.delete(`/api/v1/api-keys/${minted.id}`);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({ success: true, message: 'API key revoked' });
      const after = await api.get('/api/v1/me', { key: minted.key });
      expect(after.status).toBe(401);
      expect(after.body).toEqual(UNAUTHORIZED);
      const list = await api.get('/api/v1/api-keys');
      expect(list.body.apiKeys.map((k: { id: string }) => k.id)).not.toContain(minted.id);

      const again = await api.delete(`/api/v1/api-keys/${minted.id}`);
      expect(again.status).toBe(404);
      expect(again.body).toEqual({ success: false, error: 'API key not found' });
      const unknown = await api.delete('/api/v1/api-keys/key-ffffffffffffffff');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ success: false, error: 'API key not found' });
    });

    it('a key can revoke itself, after which it is refused', async () => {
      const minted = await createApiKey(api, ['api-keys:manage']);
      const self = await api.delete(`/api/v1/api-keys/${minted.id}`, { key: minted.key });
      expect(self.status).toBe(200);
      expect((await api.get('/api/v1/api-keys', { key: minted.key })).status).toBe(401);
    });
  });

  describe('key management', () => {
    it('POST /api-keys answers 201 with the key shown once, dts_ + ≥ 43 base64url characters', async () => {
      const before = Date.now();
      const response = await api.post('/api/v1/api-keys', { name: 'ci-deploy', permissions: ['tasks:read', 'tasks:write'] });
      expect(response.status).toBe(201);
      expect(response.body.success).toBe(true);
      expect(Object.keys(response.body).sort()).toEqual(['apiKey', 'key', 'success']);
      const { apiKey, key } = response.body;
      expect(key).toMatch(/^dts_[A-Za-z0-9_-]{43,}$/);
      expect(apiKey).toMatchObject({ name: 'ci-deploy', permissions: ['tasks:read', 'tasks:write'], projectIds: null, expiresAt: null });
      expect(apiKey.id).toMatch(/^key-[0-9a-f]{16}$/);
      expect(apiKey.createdAt).toMatch(ISO_UTC);
      // SQLite keeps whole seconds for the column default.
      expect(Date.parse(apiKey.createdAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
      expect(Date.parse(apiKey.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
      for (const forbidden of ['key', 'keyHash', 'secret', 'hash']) expect(apiKey).not.toHaveProperty(forbidden);
      expect(JSON.stringify(apiKey)).not.toContain(sha256Hex(key));
      // Each key is different.
      const other = await createApiKey(api, ['tasks:read']);
      expect(other.key).not.toBe(key);
      // The key works.
      const me = await api.get('/api/v1/me', { key });
      expect(me.body).toEqual({ keyId: apiKey.id, permissions: ['tasks:read', 'tasks:write'], projectIds: null });
    });

    it('GET /api-keys lists keys without any secret or hash', async () => {
      const minted = await createApiKey(api, ['projects:read']);
      const response = await api.get('/api/v1/api-keys');
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['apiKeys']);
      const entry = response.body.apiKeys.find((k: { id: string }) => k.id === minted.id);
      expect(entry).toMatchObject({ id: minted.id, permissions: ['projects:read'], projectIds: null });
      expect(Object.keys(entry).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'name', 'permissions', 'projectIds']);
      for (const apiKey of response.body.apiKeys) {
        for (const forbidden of ['key', 'keyHash', 'secret', 'hash']) expect(apiKey).not.toHaveProperty(forbidden);
      }
      expect(response.text).not.toContain(minted.key);
      expect(response.text).not.toContain(minted.key.slice(4));
      expect(response.text).not.toContain(sha256Hex(minted.key));
    });

    it('the database stores only the SHA-256 (hex) of the secret', async () => {
      const minted = await createApiKey(api, ['tasks:read']);
      const dataSource = testApp.app.get(DataSource);
      const row = await dataSource
        .createQueryBuilder()
        .select('*')
        .from('api_keys', 'k')
        .where('k.id = :id', { id: minted.id })
        .getRawOne<Record<string, unknown>>();
      expect(row).toBeDefined();
      expect(row!.keyHash).toBe(sha256Hex(minted.key));
      for (const [column, value] of Object.entries(row!)) {
        const text = value instanceof Date ? value.toISOString() : String(value);
        expect(text, column).not.toContain(minted.key);
        expect(text, column).not.toContain(minted.key.slice(4));
      }
      // No row anywhere in the table holds a secret.
      const all = await dataSource.createQueryBuilder().select('*').from('api_keys', 'k').getRawMany();
      expect(JSON.stringify(all)).not.toContain(minted.key.slice(4));
    });

    it('a key cannot mint more permissions than it has, nor *', async () => {
      const limited = await createApiKey(api, ['tasks:read', 'api-keys:manage']);
      expectForbidden(await api.post('/api/v1/api-keys', { name: 'up', permissions: ['tasks:write'] }, { key: limited.key }));
      expectForbidden(await api.post('/api/v1/api-keys', { name: 'star', permissions: ['*'] }, { key: limited.key }));
      expectForbidden(await api.post('/api/v1/api-keys', { name: 'mixed', permissions: ['tasks:read', 'projects:read'] }, { key: limited.key }));
      const ok = await api.post('/api/v1/api-keys', { name: 'down', permissions: ['tasks:read'] }, { key: limited.key });
      expect(ok.status).toBe(201);
      expect(ok.body.apiKey.permissions).toEqual(['tasks:read']);
      const same = await api.post('/api/v1/api-keys', { name: 'same', permissions: ['tasks:read', 'api-keys:manage'] }, { key: limited.key });
      expect(same.status).toBe(201);
      // Even a key holding every scoped permission cannot mint *.
      const everything = await createApiKey(api, ['tasks:read', 'tasks:write', 'tasks:host-commands', 'projects:read', 'projects:write', 'api-keys:manage']);
      expectForbidden(await api.post('/api/v1/api-keys', { name: 'star', permissions: ['*'] }, { key: everything.key }));
    });

    it('invalid mint requests are 400 Validation failed', async () => {
      for (const body of [
        { name: 'x', permissions: ['tasks:delete'] },
        { name: 'x', permissions: [] },
        { name: 'x' },
        { permissions: ['tasks:read'] },
        { name: '   ', permissions: ['tasks:read'] },
        { name: 'x', permissions: ['tasks:read'], projectIds: [] },
        { name: 'x', permissions: ['tasks:read'], extra: true },
      ]) {
        const response = await api.post('/api/v1/api-keys', body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.body.error).toBe('Validation failed');
        expect(Array.isArray(response.body.details)).toBe(true);
      }
    });

    it('minting for a project that does not exist is 400 Project not found', async () => {
      const response = await api.post('/api/v1/api-keys', { name: 'ghost', permissions: ['tasks:read'], projectIds: ['no-such-project-zz'] });
      expect(response.status).toBe(400);
      expect(response.body).toEqual(PROJECT_NOT_FOUND);
    });

    describe('a project-scoped manager', () => {
      let projectA: { id: string };
      let projectB: { id: string };
      let manager: { id: string; key: string };

      beforeAll(async () => {
        projectA = await createProject(api);
        projectB = await createProject(api);
        manager = await createApiKey(api, ['tasks:read', 'api-keys:manage'], { projectIds: [projectA.id] });
      });

      it('cannot mint a key for another project, nor for more projects', async () => {
        expectForbidden(await api.post('/api/v1/api-keys', { name: 'b', permissions: ['tasks:read'], projectIds: [projectB.id] }, { key: manager.key }));
        expectForbidden(
          await api.post('/api/v1/api-keys', { name: 'ab', permissions: ['tasks:read'], projectIds: [projectA.id, projectB.id] }, { key: manager.key }),
        );
        // Out of scope and non-existent look the same: 403, not a probe of which projects exist.
        expectForbidden(await api.post('/api/v1/api-keys', { name: 'z', permissions: ['tasks:read'], projectIds: ['no-such-project-zz'] }, { key: manager.key }));
      });

      it('cannot mint an unscoped key: without projectIds (or with null) the new key inherits its projects', async () => {
        const omitted = await api.post('/api/v1/api-keys', { name: 'inherit', permissions: ['tasks:read'] }, { key: manager.key });
        expect(omitted.status).toBe(201);
        expect(omitted.body.apiKey.projectIds).toEqual([projectA.id]);
        const me = await api.get('/api/v1/me', { key: omitted.body.key });
        expect(me.body.projectIds).toEqual([projectA.id]);

        const explicitNull = await api.post('/api/v1/api-keys', { name: 'null', permissions: ['tasks:read'], projectIds: null }, { key: manager.key });
        expect(explicitNull.status).toBe(201);
        expect(explicitNull.body.apiKey.projectIds).toEqual([projectA.id]);

        const own = await api.post('/api/v1/api-keys', { name: 'own', permissions: ['tasks:read'], projectIds: [projectA.id] }, { key: manager.key });
        expect(own.status).toBe(201);
        expect(own.body.apiKey.projectIds).toEqual([projectA.id]);
      });

      it('lists only keys within its scope and permissions', async () => {
        const unscoped = await createApiKey(api, ['tasks:read']);
        const otherProject = await createApiKey(api, ['tasks:read'], { projectIds: [projectB.id] });
        const wider = await createApiKey(api, ['tasks:read', 'tasks:write'], { projectIds: [projectA.id] });
        const inside = await createApiKey(api, ['tasks:read'], { projectIds: [projectA.id] });

        const response = await api.get('/api/v1/api-keys', { key: manager.key });
        expect(response.status).toBe(200);
        const ids = response.body.apiKeys.map((k: { id: string }) => k.id);
        expect(ids).toContain(inside.id);
        expect(ids).toContain(manager.id);
        expect(ids).not.toContain(unscoped.id);
        expect(ids).not.toContain(otherProject.id);
        expect(ids).not.toContain(wider.id);
        for (const apiKey of response.body.apiKeys) {
          expect(apiKey.projectIds).toEqual([projectA.id]);
          expect(apiKey.permissions.every((p: string) => ['tasks:read', 'api-keys:manage'].includes(p))).toBe(true);
        }
        // And it cannot revoke the ones it cannot see.
        const refused = await api.delete(`/api/v1/api-keys/${otherProject.id}`, { key: manager.key });
        expect(refused.status).toBe(404);
        expect((await api.get('/api/v1/me', { key: otherProject.key })).status).toBe(200);
        expect((await api.delete(`/api/v1/api-keys/${inside.id}`, { key: manager.key })).status).toBe(200);
        expect((await api.get('/api/v1/me', { key: inside.key })).status).toBe(401);
      });
    });

    it('GET /me describes the caller', async () => {
      const admin = await api.get('/api/v1/me');
      expect(admin.status).toBe(200);
      expect(admin.body).toEqual({ keyId: 'admin-env', permissions: ['*'], projectIds: null });
      const project = await createProject(api);
      const minted = await createApiKey(api, ['tasks:read', 'projects:read'], { projectIds: [project.id] });
      const me = await api.get('/api/v1/me', { key: minted.key });
      expect(me.body).toEqual({ keyId: minted.id, permissions: ['tasks:read', 'projects:read'], projectIds: [project.id] });
    });
  });

  describe('generated admin key (no ADMIN_API_KEY)', () => {
    it(usingPostgres()
      ? 'with keys already stored, no key file is made (PostgreSQL: the database is shared)'
      : 'the first start writes a working * key to ${DATA_DIR}/admin-api-key (0600) and logs only the path', async () => {
      // Make sure this database holds at least one key whatever ran before.
      await createApiKey(api, ['tasks:read']);
      const written: string[] = [];
      const capture = (stream: NodeJS.WriteStream) =>
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
          written.push(String(chunk));
          return true;
        }) as never);
      const spies = [capture(process.stdout), capture(process.stderr)];
      let second: TestApp | undefined;
      try {
        second = await startTestApp({ ADMIN_API_KEY: undefined });
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      let closed = false;
      try {
        const file = join(second.dataDir, 'admin-api-key');
        if (usingPostgres()) {
          expect(existsSync(file)).toBe(false);
          expect(written.join('')).not.toContain('generated an admin key');
          // The first app's env key means nothing to the second.
          expect((await second.api.get('/api/v1/me')).status).toBe(401);
          return;
        }
        expect(existsSync(file)).toBe(true);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const secret = readFileSync(file, 'utf8').trim();
        expect(secret).toMatch(/^dts_[A-Za-z0-9_-]{43,}$/);

        const me = await second.api.get('/api/v1/me', { key: secret });
        expect(me.status).toBe(200);
        expect(me.body.permissions).toEqual(['*']);
        expect(me.body.projectIds).toBeNull();
        expect(me.body.keyId).toMatch(/^key-/);
        const project = await createProject(second.api.withKey(secret));
        expect((await second.api.get(`/api/v1/projects/${project.id}`, { key: secret })).status).toBe(200);
        // The test harness's ADMIN_KEY is not configured on this app.
        expect((await second.api.get('/api/v1/me')).status).toBe(401);

        // The log names the file and never the key.
        const log = written.join('');
        expect(log).toContain(file);
        expect(log).not.toContain(secret);
        expect(log).not.toContain(secret.slice(4));

        // A restart on the same data, with a key stored, makes no new one.
        const before = readFileSync(file, 'utf8');
        await second.app.close();
        closed = true;
        const third = await startTestApp({ ADMIN_API_KEY: undefined, DATA_DIR: second.dataDir });
        try {
          expect(readFileSync(file, 'utf8')).toBe(before);
          expect((await third.api.get('/api/v1/me', { key: secret })).status).toBe(200);
        } finally {
          await third.close();
        }
      } finally {
        if (!closed) await second.app.close();
        rmSync(second.dataDir, { recursive: true, force: true });
      }
    });
  });
});
