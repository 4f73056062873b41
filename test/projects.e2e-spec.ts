import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app';
import type { ApiClient } from './support/api-client';
import { createProject, createTask } from './support/factories';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const PROJECT_NOT_FOUND = { success: false, error: 'Project not found' };
const PROJECT_FIELDS = ['createdAt', 'description', 'dockerHost', 'id', 'name', 'updatedAt'];

const uniqueId = (prefix = 'proj') => `${prefix}-${randomBytes(5).toString('hex')}`;

function expectValidationFailed(response: { status: number; body: any }, field: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  expect(response.body.success).toBe(false);
  expect(response.body.error).toBe('Validation failed');
  expect(Array.isArray(response.body.details)).toBe(true);
  expect(response.body.details.map((d: { field: string }) => d.field), JSON.stringify(response.body.details)).toContain(field);
}

describe('projects (e2e)', () => {
  let testApp: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    api = testApp.api;
  });

  afterAll(async () => {
    await testApp?.close();
  });

  describe('create', () => {
    it('POST with every field → 201 {success, project} with ISO UTC timestamps', async () => {
      const id = uniqueId();
      const before = Date.now();
      const response = await api.post('/api/v1/projects', {
        id,
        name: 'Production',
        description: 'Customer-facing stack',
        dockerHost: 'tcp://127.0.0.1:2375',
      });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(['project', 'success']);
      expect(response.body.success).toBe(true);
      const project = response.body.project;
      expect(Object.keys(project).sort()).toEqual(PROJECT_FIELDS);
      expect(project).toMatchObject({ id, name: 'Production', description: 'Customer-facing stack', dockerHost: 'tcp://127.0.0.1:2375' });
      expect(project.createdAt).toMatch(ISO_UTC);
      expect(project.updatedAt).toMatch(ISO_UTC);
      // Whole seconds on SQLite: allow the second the request started in.
      expect(Date.parse(project.createdAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
      expect(Date.parse(project.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);

      const got = await api.get(`/api/v1/projects/${id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(project);
    });

    it('description and dockerHost are optional and then null', async () => {
      const id = uniqueId();
      const response = await api.post('/api/v1/projects', { id, name: 'Minimal' });
      expect(response.status).toBe(201);
      expect(response.body.project).toMatchObject({ id, name: 'Minimal', description: null, dockerHost: null });
      const explicitNulls = await api.post('/api/v1/projects', { id: uniqueId(), name: 'Nulls', description: null, dockerHost: null });
      expect(explicitNulls.status).toBe(201);
      expect(explicitNulls.body.project).toMatchObject({ description: null, dockerHost: null });
    });

    it('accepts Compose project names: digits first, - and _ inside, 63 characters', async () => {
      for (const id of [`0${uniqueId()}`, `a_b-${randomBytes(3).toString('hex')}`, `x${randomBytes(31).toString('hex')}`]) {
        const response = await api.post('/api/v1/projects', { id, name: id });
        expect(response.status, id).toBe(201);
        expect(response.body.project.id).toBe(id);
      }
    });

    it('accepts DOCKER_HOST-style addresses', async () => {
      for (const dockerHost of ['unix:///var/run/docker.sock', 'ssh://deploy@engine.internal', 'https://engine.internal:2376']) {
        const response = await api.post('/api/v1/projects', { id: uniqueId(), name: 'Remote', dockerHost });
        expect(response.status, dockerHost).toBe(201);
        expect(response.body.project.dockerHost).toBe(dockerHost);
      }
    });

    it('a duplicate id → 409, and the original is unchanged', async () => {
      const project = await createProject(api, { description: 'first' });
      const response = await api.post('/api/v1/projects', { id: project.id, name: 'Second', description: 'second' });
      expect(response.status).toBe(409);
      expect(response.body.success).toBe(false);
      expect(response.body.error).toBe('Project already exists');
      const got = await api.get(`/api/v1/projects/${project.id}`);
      expect(got.body).toMatchObject({ name: project.name, description: 'first' });
    });

    it.each([
      ['upper case', 'Production'],
      ['a space', 'my project'],
      ['a leading -', '-project'],
      ['a leading _', '_project'],
      ['a dot', 'my.project'],
      ['a slash', 'a/b'],
      ['64 characters', `a${'b'.repeat(63)}`],
      ['the empty string', ''],
      ['a number', 42],
      ['null', null],
      ['an array', ['a']],
    ])('an id with %s → 400 Validation failed naming id', async (_label, id) => {
      const response = await api.post('/api/v1/projects', { id, name: 'Bad' });
      expectValidationFailed(response, 'id');
      if (typeof id === 'string' && id.length > 0 && !id.includes('/')) {
        expect((await api.get(`/api/v1/projects/${encodeURIComponent(id)}`)).status).toBe(404);
      }
    });

    it('a missing id → 400 naming id', async () => {
      expectValidationFailed(await api.post('/api/v1/projects', { name: 'No id' }), 'id');
    });

    it('a null, empty, blank or non-string name → 400 naming name', async () => {
      for (const name of ['', '   ', 7, null, 'n'.repeat(201)]) {
        const id = uniqueId();
        expectValidationFailed(await api.post('/api/v1/projects', { id, name }), 'name');
        expect((await api.get(`/api/v1/projects/${id}`)).status).toBe(404);
      }
    });

    it('a missing name → 400 naming name (not a 500 from the database)', async () => {
      const id = uniqueId();
      expectValidationFailed(await api.post('/api/v1/projects', { id }), 'name');
      expect((await api.get(`/api/v1/projects/${id}`)).status).toBe(404);
    });

    it('an invalid dockerHost or description → 400 naming it', async () => {
      expectValidationFailed(await api.post('/api/v1/projects', { id: uniqueId(), name: 'x', dockerHost: 'foo' }), 'dockerHost');
      expectValidationFailed(await api.post('/api/v1/projects', { id: uniqueId(), name: 'x', dockerHost: 'tcp://' }), 'dockerHost');
      expectValidationFailed(await api.post('/api/v1/projects', { id: uniqueId(), name: 'x', dockerHost: 5 }), 'dockerHost');
      expectValidationFailed(await api.post('/api/v1/projects', { id: uniqueId(), name: 'x', description: 5 }), 'description');
      expectValidationFailed(await api.post('/api/v1/projects', { id: uniqueId(), name: 'x', description: 'd'.repeat(2001) }), 'description');
    });

    it('unknown fields → 400 naming them', async () => {
      const id = uniqueId();
      expectValidationFailed(await api.post('/api/v1/projects', { id, name: 'x', owner: 'me' }), 'owner');
      expect((await api.get(`/api/v1/projects/${id}`)).status).toBe(404);
      expectValidationFailed(await api.post('/api/v1/projects', { id, name: 'x', createdAt: '2020-01-01T00:00:00Z' }), 'createdAt');
    });

    it('a body that is not an object → 400', async () => {
      const array = await api.post('/api/v1/projects', [{ id: uniqueId(), name: 'x' }]);
      expect(array.status).toBe(400);
      expect(array.body.success).toBe(false);
      const malformed = await api.request('POST', '/api/v1/projects', { rawBody: '{"id":', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body.success).toBe(false);
    });
  });

  describe('read', () => {
    it('GET /projects → {projects:[…]} holding the created projects in full', async () => {
      const a = await createProject(api, { description: 'A' });
      const b = await createProject(api);
      const response = await api.get('/api/v1/projects');
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['projects']);
      const byId = new Map(response.body.projects.map((p: { id: string }) => [p.id, p]));
      expect(byId.get(a.id)).toMatchObject({ id: a.id, name: a.name, description: 'A', dockerHost: null });
      expect(byId.get(b.id)).toMatchObject({ id: b.id, name: b.name, description: null });
      for (const project of response.body.projects) expect(Object.keys(project).sort()).toEqual(PROJECT_FIELDS);
      const ids = response.body.projects.map((p: { id: string }) => p.id);
      expect(ids).toEqual([...ids].sort());
    });

    it('GET /projects/:id → the project; unknown → 404 Project not found', async () => {
      const project = await createProject(api);
      const got = await api.get(`/api/v1/projects/${project.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: project.id, name: project.name });
      const unknown = await api.get(`/api/v1/projects/${uniqueId('missing')}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual(PROJECT_NOT_FOUND);
      // Ids are exact: no case folding.
      const upper = await api.get(`/api/v1/projects/${project.id.toUpperCase()}`);
      expect(upper.status).toBe(404);
    });
  });

  describe('errors on the :id routes keep the envelope', () => {
    const expectEnvelope = (response: { status: number; body: any; text: string }) => {
      expect(response.body, response.text).toBeDefined();
      expect(response.body.success, response.text).toBe(false);
      expect(typeof response.body.error).toBe('string');
      for (const key of Object.keys(response.body)) expect(['success', 'error', 'details'], response.text).toContain(key);
    };

    it('an over-long id on GET, PUT and DELETE → an error in the {success:false, error} envelope', async () => {
      const id = 'a'.repeat(150);
      for (const response of [
        await api.get(`/api/v1/projects/${id}`),
        await api.put(`/api/v1/projects/${id}`, { name: 'x' }),
        await api.delete(`/api/v1/projects/${id}`),
      ]) {
        expect([404, 414]).toContain(response.status);
        expectEnvelope(response);
      }
    });

    it('an id that is not valid percent-encoding → a 4xx in the envelope', async () => {
      const response = await api.get('/api/v1/projects/%E0%A4%A');
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expectEnvelope(response);
    });
  });

  describe('update', () => {
    it('PUT is partial: absent fields stay', async () => {
      const project = await createProject(api, { description: 'keep me', dockerHost: 'unix:///var/run/docker.sock' });
      const created = (await api.get(`/api/v1/projects/${project.id}`)).body;
      const response = await api.put(`/api/v1/projects/${project.id}`, { name: 'Renamed' });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['project', 'success']);
      expect(response.body.success).toBe(true);
      expect(response.body.project).toMatchObject({
        id: project.id,
        name: 'Renamed',
        description: 'keep me',
        dockerHost: 'unix:///var/run/docker.sock',
        createdAt: created.createdAt,
      });
      expect(response.body.project.updatedAt).toMatch(ISO_UTC);
      expect(Date.parse(response.body.project.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
      const got = await api.get(`/api/v1/projects/${project.id}`);
      expect(got.body).toMatchObject({ name: 'Renamed', description: 'keep me', dockerHost: 'unix:///var/run/docker.sock' });

      const empty = await api.put(`/api/v1/projects/${project.id}`, {});
      expect(empty.status).toBe(200);
      expect(empty.body.project).toMatchObject({ name: 'Renamed', description: 'keep me' });
    });

    it('description: null and dockerHost: null clear them', async () => {
      const project = await createProject(api, { description: 'old', dockerHost: 'tcp://10.0.0.2:2375' });
      const response = await api.put(`/api/v1/projects/${project.id}`, { description: null });
      expect(response.status).toBe(200);
      expect(response.body.project).toMatchObject({ description: null, dockerHost: 'tcp://10.0.0.2:2375', name: project.name });
      const cleared = await api.put(`/api/v1/projects/${project.id}`, { dockerHost: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body.project.dockerHost).toBeNull();
      expect((await api.get(`/api/v1/projects/${project.id}`)).body).toMatchObject({ description: null, dockerHost: null });
      const set = await api.put(`/api/v1/projects/${project.id}`, { description: 'new', dockerHost: 'ssh://ops@engine' });
      expect(set.body.project).toMatchObject({ description: 'new', dockerHost: 'ssh://ops@engine' });
    });

    it('invalid values → 400 naming the field, and nothing changes', async () => {
      const project = await createProject(api, { description: 'stay' });
      expectValidationFailed(await api.put(`/api/v1/projects/${project.id}`, { dockerHost: 'foo' }), 'dockerHost');
      expectValidationFailed(await api.put(`/api/v1/projects/${project.id}`, { name: null }), 'name');
      expectValidationFailed(await api.put(`/api/v1/projects/${project.id}`, { name: '' }), 'name');
      expectValidationFailed(await api.put(`/api/v1/projects/${project.id}`, { name: 'ok', color: 'red' }), 'color');
      // The id cannot be changed through the body.
      expectValidationFailed(await api.put(`/api/v1/projects/${project.id}`, { id: uniqueId() }), 'id');
      const got = await api.get(`/api/v1/projects/${project.id}`);
      expect(got.body).toMatchObject({ id: project.id, name: project.name, description: 'stay', dockerHost: null });
    });

    it('PUT of an unknown project → 404 Project not found (and creates nothing)', async () => {
      const id = uniqueId('missing');
      const response = await api.put(`/api/v1/projects/${id}`, { name: 'Ghost' });
      expect(response.status).toBe(404);
      expect(response.body).toEqual(PROJECT_NOT_FOUND);
      expect((await api.get(`/api/v1/projects/${id}`)).status).toBe(404);
    });

    it("a task's projectName follows a project rename", async () => {
      const project = await createProject(api, { name: 'Before' });
      const task = await createTask(api, project.id);
      expect(task.projectName).toBe('Before');
      expect((await api.put(`/api/v1/projects/${project.id}`, { name: 'After' })).status).toBe(200);
      const got = await api.get(`/api/v1/tasks/${task.id}`);
      expect(got.status).toBe(200);
      expect(got.body.projectName).toBe('After');
      const list = await api.get(`/api/v1/tasks?projectId=${project.id}`);
      expect(list.body.tasks.map((t: { projectName: string }) => t.projectName)).toEqual(['After']);
      const updated = await api.put(`/api/v1/tasks/${task.id}`, { name: 'touched' });
      expect(updated.body.task.projectName).toBe('After');
    });
  });

  describe('delete', () => {
    it('DELETE → 200 {success, message}; then 404 on GET, PUT and DELETE', async () => {
      const project = await createProject(api);
      const response = await api.delete(`/api/v1/projects/${project.id}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true, message: 'Project deleted' });
      for (const after of [
        await api.get(`/api/v1/projects/${project.id}`),
        await api.put(`/api/v1/projects/${project.id}`, { name: 'x' }),
        await api.delete(`/api/v1/projects/${project.id}`),
      ]) {
        expect(after.status).toBe(404);
        expect(after.body).toEqual(PROJECT_NOT_FOUND);
      }
      expect((await api.get('/api/v1/projects')).body.projects.map((p: { id: string }) => p.id)).not.toContain(project.id);
      // The id is free again.
      expect((await api.post('/api/v1/projects', { id: project.id, name: 'Again' })).status).toBe(201);
    });

    it('DELETE of an unknown project → 404', async () => {
      const response = await api.delete(`/api/v1/projects/${uniqueId('missing')}`);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(PROJECT_NOT_FOUND);
    });

    it('DELETE of a project with tasks → 409 and it stays; after its tasks are deleted it goes', async () => {
      const project = await createProject(api);
      const tasks = [await createTask(api, project.id), await createTask(api, project.id)];
      const refused = await api.delete(`/api/v1/projects/${project.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.success).toBe(false);
      expect(refused.body.error).toBe('Project has tasks');
      expect((await api.get(`/api/v1/projects/${project.id}`)).status).toBe(200);
      expect((await api.get(`/api/v1/tasks/${tasks[0].id}`)).status).toBe(200);

      expect((await api.delete(`/api/v1/tasks/${tasks[0].id}`)).status).toBe(200);
      expect((await api.delete(`/api/v1/projects/${project.id}`)).status).toBe(409);
      expect((await api.delete(`/api/v1/tasks/${tasks[1].id}`)).status).toBe(200);

      const deleted = await api.delete(`/api/v1/projects/${project.id}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ success: true, message: 'Project deleted' });
      expect((await api.get(`/api/v1/projects/${project.id}`)).status).toBe(404);
    });

    it('moving its tasks to another project also frees it for deletion', async () => {
      const from = await createProject(api);
      const to = await createProject(api);
      const task = await createTask(api, from.id);
      expect((await api.delete(`/api/v1/projects/${from.id}`)).status).toBe(409);
      const moved = await api.put(`/api/v1/tasks/${task.id}`, { projectId: to.id });
      expect(moved.status).toBe(200);
      expect(moved.body.task).toMatchObject({ projectId: to.id, projectName: to.name });
      expect((await api.delete(`/api/v1/projects/${from.id}`)).status).toBe(200);
      expect((await api.delete(`/api/v1/projects/${to.id}`)).status).toBe(409);
    });
  });
});
