import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, createTask, taskBody } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

describe('errors: envelope, statuses and order', () => {
  let t: TestApp;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT_BYTES: '65536' });
    projectId = (await createProject(t.api)).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const expectError = (response: { status: number; body: any }, status: number, error: string) => {
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ success: false, error });
    expect(Object.keys(response.body).every((key) => ['success', 'error', 'details'].includes(key))).toBe(true);
  };

  describe('the seed errors', () => {
    it('Invalid cron expression: 400, with details saying why', async () => {
      const cases = ['not a cron', '', '* * * *', '0 0 * * * *', '0 0 * * * 2027', '60 * * * *', '5/15 * * * *', '*/0 * * * *', '0 0 L * *', '0 0 31 2 *', '0 0 30 2 *', '@reboot', '   '];
      for (const cronExpression of cases) {
        const response = await t.api.post('/api/v1/tasks', taskBody(projectId, { cronExpression }));
        expectError(response, 400, 'Invalid cron expression');
        expect(typeof response.body.details).toBe('string');
      }
    });

    it('accepts the syntax DESIGN §4 allows', async () => {
      const cases = ['0 0 29 2 *', '0 0 * * 7', '0 0 * JAN-MAR mon-fri', '1-10/3 * * * *', '@hourly', '@ANNUALLY', '0 0 */2 * 1', '0,30 2 * * *'];
      for (const cronExpression of cases) {
        expect((await t.api.post('/api/v1/tasks', taskBody(projectId, { cronExpression }))).status).toBe(201);
      }
    });

    it('Project not found: 400', async () => {
      expectError(await t.api.post('/api/v1/tasks', taskBody('no-such-project')), 400, 'Project not found');
    });

    it('Task not found: 404 on get, update, delete', async () => {
      expectError(await t.api.get('/api/v1/tasks/task-0000000000000000'), 404, 'Task not found');
      expectError(await t.api.put('/api/v1/tasks/task-0000000000000000', { name: 'x' }), 404, 'Task not found');
      expectError(await t.api.delete('/api/v1/tasks/task-0000000000000000'), 404, 'Task not found');
      expectError(await t.api.get(`/api/v1/tasks/${encodeURIComponent("' OR 1=1 --")}`), 404, 'Task not found');
    });

    it('Invalid timezone: 400', async () => {
      for (const timezone of ['Mars/Olympus_Mons', '', '+05:00', 'GMT+5', 'America/New York']) {
        expectError(await t.api.post('/api/v1/tasks', taskBody(projectId, { timezone })), 400, 'Invalid timezone');
      }
    });
  });

  describe('order when several apply', () => {
    it('validation before project, cron and time zone', async () => {
      const response = await t.api.post('/api/v1/tasks', {
        ...taskBody('no-such-project', { cronExpression: 'bad', timezone: 'Nowhere/City' }),
        name: 42,
      });
      expectError(response, 400, 'Validation failed');
    });

    it('cron before time zone before project', async () => {
      const all = taskBody('no-such-project', { cronExpression: 'bad', timezone: 'Nowhere/City' });
      expectError(await t.api.post('/api/v1/tasks', all), 400, 'Invalid cron expression');
      expectError(await t.api.post('/api/v1/tasks', { ...all, cronExpression: '* * * * *' }), 400, 'Invalid timezone');
      expectError(await t.api.post('/api/v1/tasks', { ...all, cronExpression: '* * * * *', timezone: 'UTC' }), 400, 'Project not found');
    });

    it('on update: validation, then unknown task, then cron', async () => {
      expectError(await t.api.put('/api/v1/tasks/task-missing', { enabled: 'yes' }), 400, 'Validation failed');
      expectError(await t.api.put('/api/v1/tasks/task-missing', { cronExpression: 'bad' }), 404, 'Task not found');
      const task = await createTask(t.api, projectId);
      expectError(
        await t.api.put(`/api/v1/tasks/${task.id}`, { cronExpression: 'bad', timezone: 'Nowhere/City', projectId: 'nope' }),
        400,
        'Invalid cron expression',
      );
      expectError(await t.api.put(`/api/v1/tasks/${task.id}`, { timezone: 'Nowhere/City', projectId: 'nope' }), 400, 'Invalid timezone');
      expectError(await t.api.put(`/api/v1/tasks/${task.id}`, { projectId: 'nope' }), 400, 'Project not found');
      for (const field of ['name', 'cronExpression', 'enabled', 'projectId', 'timezone', 'healthCheckConfig']) {
        expectError(await t.api.put(`/api/v1/tasks/${task.id}`, { [field]: null }), 400, 'Validation failed');
      }
      // A refused update loses nothing.
      expect((await t.api.get(`/api/v1/tasks/${task.id}`)).body).toMatchObject({
        cronExpression: task.cronExpression,
        timezone: task.timezone,
        projectId,
      });
    });
  });

  describe('Validation failed, with details naming each field', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['missing name', { name: undefined }, 'name'],
      ['numeric name', { name: 12 }, 'name'],
      ['blank name', { name: '   ' }, 'name'],
      ['overlong name', { name: 'x'.repeat(201) }, 'name'],
      ['unknown type', { type: 'reboot' }, 'type'],
      ['missing cronExpression', { cronExpression: undefined }, 'cronExpression'],
      ['numeric cronExpression', { cronExpression: 5 }, 'cronExpression'],
      ['null cronExpression', { cronExpression: null }, 'cronExpression'],
      ['string enabled', { enabled: 'true' }, 'enabled'],
      ['null enabled', { enabled: null }, 'enabled'],
      ['numeric timezone', { timezone: 1 }, 'timezone'],
      ['zero timeout', { timeoutSeconds: 0 }, 'timeoutSeconds'],
      ['fractional timeout', { timeoutSeconds: 1.5 }, 'timeoutSeconds'],
      ['unknown field', { color: 'red' }, 'color'],
      ['another type config', { backupConfig: { type: 'full' } }, 'backupConfig'],
      ['config not an object', { healthCheckConfig: 'yes' }, 'healthCheckConfig'],
      ['unknown nested field', { healthCheckConfig: { checkEverything: true } }, 'healthCheckConfig.checkEverything'],
      ['wrong nested type', { healthCheckConfig: { checkContainers: 'yes' } }, 'healthCheckConfig.checkContainers'],
      ['bad endpoint url', { healthCheckConfig: { endpoints: [{ url: 'ftp://example.com' }] } }, 'healthCheckConfig.endpoints.0.url'],
      ['bad endpoint status', { healthCheckConfig: { endpoints: [{ url: 'http://127.0.0.1', expectStatus: 99 }] } }, 'healthCheckConfig.endpoints.0.expectStatus'],
      ['numeric projectId', { projectId: 7 }, 'projectId'],
    ];
    it.each(cases)('%s', async (_label, change, field) => {
      const body: Record<string, unknown> = { ...taskBody(projectId), ...change };
      for (const key of Object.keys(change)) if (change[key] === undefined) delete body[key];
      const response = await t.api.post('/api/v1/tasks', body);
      expectError(response, 400, 'Validation failed');
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
    });

    it('per-type config checks', async () => {
      const backup = (backupConfig: unknown) => taskBody(projectId, { type: 'backup', backupConfig });
      for (const body of [
        backup({ type: 'everything' }),
        backup({ destination: 'ftp' }),
        backup({ retention: { keepLast: 0 } }),
        backup({ hooks: { before: [{ container: 'db' }] } }),
        taskBody(projectId, { type: 'container-update', containerUpdateConfig: { pullImages: 'always' } }),
        taskBody(projectId, { type: 'custom' }),
        taskBody(projectId, { type: 'custom', customConfig: {} }),
        taskBody(projectId, { type: 'custom', customConfig: { command: '' } }),
        taskBody(projectId, { type: 'custom', customConfig: { command: '  ' } }),
        taskBody(projectId, { type: 'custom', customConfig: { command: 'ls', container: 5 } }),
      ]) {
        expectError(await t.api.post('/api/v1/tasks', body), 400, 'Validation failed');
      }
    });

    it('list query parameters', async () => {
      for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'offset=-1', 'enabled=yes', 'type=reboot', 'color=red', 'limit=1.5']) {
        const response = await t.api.get(`/api/v1/tasks?${query}`);
        expectError(response, 400, 'Validation failed');
        expect(response.body.details.length).toBeGreaterThan(0);
      }
      expect((await t.api.get('/api/v1/tasks?limit=1000&offset=0&enabled=true')).status).toBe(200);
    });
  });

  describe('hostile bodies', () => {
    it('malformed JSON: 400 in the envelope', async () => {
      for (const rawBody of ['{bad', '{"name": "x",}', '[', '"unterminated']) {
        const response = await t.api.request('POST', '/api/v1/tasks', { rawBody, headers: { 'content-type': 'application/json' } });
        expectError(response, 400, 'Malformed request body');
      }
    });

    it('non-object JSON bodies and no body: 400 Validation failed', async () => {
      for (const rawBody of ['[]', '[1,2]', '42', '"text"', 'null', 'true']) {
        const response = await t.api.request('POST', '/api/v1/tasks', { rawBody, headers: { 'content-type': 'application/json' } });
        expect(response.status).toBe(400);
        expect(response.body.success).toBe(false);
      }
      expectError(await t.api.request('POST', '/api/v1/tasks'), 400, 'Validation failed');
    });

    it('unsupported content types: 415', async () => {
      const response = await t.api.request('POST', '/api/v1/tasks', { rawBody: '<task/>', headers: { 'content-type': 'application/xml' } });
      expectError(response, 415, 'Unsupported media type');
    });

    it('a body over the limit: 413, and nothing is created', async () => {
      const before = (await t.api.get(`/api/v1/tasks?projectId=${projectId}`)).body.total;
      const response = await t.api.post('/api/v1/tasks', taskBody(projectId, { type: 'custom', customConfig: { command: 'x'.repeat(70_000) } }));
      expectError(response, 413, 'Payload too large');
      expect((await t.api.get(`/api/v1/tasks?projectId=${projectId}`)).body.total).toBe(before);
    });

    it('prototype pollution attempts are refused', async () => {
      for (const rawBody of [
        `{"name":"x","type":"health-check","projectId":"${projectId}","cronExpression":"* * * * *","__proto__":{"admin":true}}`,
        `{"name":"x","type":"health-check","projectId":"${projectId}","cronExpression":"* * * * *","constructor":{"prototype":{"admin":true}}}`,
      ]) {
        const response = await t.api.request('POST', '/api/v1/tasks', { rawBody, headers: { 'content-type': 'application/json' } });
        expect(response.status).toBe(400);
        expect(response.body.success).toBe(false);
      }
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it('strings that look like SQL or markup are stored verbatim', async () => {
      const name = `Robert'); DROP TABLE tasks; -- <script>alert(1)</script> ✓ 𝄞`;
      const task = await createTask(t.api, projectId, { name });
      expect((await t.api.get(`/api/v1/tasks/${task.id}`)).body.name).toBe(name);
    });

    it('deeply nested junk is a 400, not a crash', async () => {
      let nested: unknown = {};
      for (let i = 0; i < 500; i++) nested = { a: nested };
      expectError(await t.api.post('/api/v1/tasks', taskBody(projectId, { healthCheckConfig: nested })), 400, 'Validation failed');
    });
  });

  describe('routes', () => {
    it('unknown routes and methods: 404 in the envelope', async () => {
      expectError(await t.api.get('/api/v1/nothing-here'), 404, 'Not found');
      expectError(await t.api.get('/'), 404, 'Not found');
      expectError(await t.api.request('PATCH', '/api/v1/tasks'), 404, 'Not found');
    });
  });

  describe('cron preview', () => {
    it('answers {expression, timezone, description, nextRuns} from the same evaluator', async () => {
      const response = await t.api.get('/api/v1/cron/preview?expression=0%202%20*%20*%20*&timezone=America/New_York&count=3');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ expression: '0 2 * * *', timezone: 'America/New_York' });
      expect(response.body.description).toMatch(/02:00/);
      expect(response.body.nextRuns).toHaveLength(3);
      for (const run of response.body.nextRuns) expect(new Date(run).getUTCHours()).toBeOneOf([6, 7]);
      expect((await t.api.get('/api/v1/cron/preview?expression=*%20*%20*%20*%20*')).body.nextRuns).toHaveLength(5);
    });

    it('errors as for tasks', async () => {
      expectError(await t.api.get('/api/v1/cron/preview'), 400, 'Validation failed');
      expectError(await t.api.get('/api/v1/cron/preview?expression=bad'), 400, 'Invalid cron expression');
      expectError(await t.api.get('/api/v1/cron/preview?expression=@daily&timezone=Nowhere/City'), 400, 'Invalid timezone');
      expectError(await t.api.get('/api/v1/cron/preview?expression=@daily&count=101'), 400, 'Validation failed');
      expectError(await t.api.get('/api/v1/cron/preview?expression=@daily&count=0'), 400, 'Validation failed');
    });
  });

  describe('500', () => {
    it('hides internals and gives a request id', async () => {
      const other = await startTestApp();
      try {
        await other.app.get(DataSource).destroy();
        const response = await other.api.get('/api/v1/tasks', { headers: { 'x-request-id': 'trace-me-123' } });
        expect(response.status).toBe(500);
        expect(response.body).toEqual({ success: false, error: 'Internal server error' });
        expect(response.headers.get('x-request-id')).toBe('trace-me-123');
        expect(response.text).not.toMatch(/SELECT|sqlite|postgres|at \w+ \(/i);

        const ready = await other.api.get('/health/ready', { key: null });
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ success: false, status: 'unavailable', checks: { database: { status: 'down' } } });
        expect(ready.body.checks.database.message).toMatch(/database unreachable/);
      } finally {
        await other.close().catch(() => undefined);
      }
    });
  });
});
