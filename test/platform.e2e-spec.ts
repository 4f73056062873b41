import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.setup';
import { InvalidEnvironmentError } from '../src/config/environment';
import { startTestApp, type TestApp } from './support/test-app';
import { freePort } from './support/ports';

const MAIN = resolve(__dirname, '../dist/src/main.js');

describe('platform', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('health', () => {
    it('GET /health and /health/ready are public and answer 200', async () => {
      expect(await t.api.get('/health', { key: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await t.api.get('/health/ready', { key: null })).toMatchObject({
        status: 200,
        body: { status: 'ok', checks: { database: { status: 'up' }, scheduler: { status: 'up' }, engine: { status: 'up' } } },
      });
    });
  });

  describe('OpenAPI', () => {
    let document: any;
    beforeAll(async () => {
      const response = await t.api.get('/api/docs-json', { key: null });
      expect(response.status).toBe(200);
      document = response.body;
    });

    it('serves Swagger UI at /api/docs', async () => {
      const response = await t.api.get('/api/docs', { key: null });
      expect(response.status).toBe(200);
      expect(response.text).toMatch(/swagger-ui/i);
    });

    it('documents every route', () => {
      const operations = Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(operations.sort()).toEqual(
        [
          'GET /api/v1/tasks',
          'POST /api/v1/tasks',
          'GET /api/v1/tasks/{id}',
          'PUT /api/v1/tasks/{id}',
          'DELETE /api/v1/tasks/{id}',
          'GET /api/v1/cron/preview',
          'GET /api/v1/projects',
          'POST /api/v1/projects',
          'GET /api/v1/projects/{id}',
          'PUT /api/v1/projects/{id}',
          'DELETE /api/v1/projects/{id}',
          'GET /api/v1/projects/{id}/containers',
          'GET /api/v1/projects/{id}/backups',
          'POST /api/v1/projects/{id}/backups/{backupId}/restore',
          'GET /api/v1/api-keys',
          'POST /api/v1/api-keys',
          'DELETE /api/v1/api-keys/{id}',
          'GET /api/v1/me',
          'POST /api/v1/tasks/{id}/run',
          'GET /api/v1/tasks/{id}/executions',
          'GET /api/v1/tasks/{id}/executions/{executionId}',
          'POST /api/v1/tasks/{id}/executions/{executionId}/cancel',
          'GET /metrics',
          'GET /health',
          'GET /health/ready',
        ].sort(),
      );
    });

    it('declares both key schemes, and every non-health route requires one', () => {
      expect(document.components.securitySchemes).toMatchObject({
        bearer: { type: 'http', scheme: 'bearer' },
        'api-key': { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      });
      for (const [path, item] of Object.entries<any>(document.paths)) {
        for (const operation of Object.values<any>(item)) {
          if (path.startsWith('/health')) {
            expect(operation.security).toBeUndefined();
            continue;
          }
          expect(operation.security).toEqual(expect.arrayContaining([{ bearer: [] }, { 'api-key': [] }]));
          expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '500']));
        }
      }
    });

    it('documents bodies, responses, errors and examples', () => {
      const create = document.paths['/api/v1/tasks'].post;
      expect(Object.keys(create.requestBody.content['application/json'].examples)).toEqual([
        'healthCheck',
        'backup',
        'containerUpdate',
        'custom',
      ]);
      expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '413', '500']));
      const getTask = document.paths['/api/v1/tasks/{id}'].get.responses;
      expect(Object.keys(getTask)).toEqual(expect.arrayContaining(['200', '404']));
      // Each error response shows its own message, not one example for all.
      const example = (response: any) => Object.values<any>(response.content['application/json'].examples ?? {})[0]?.value ?? response.content['application/json'].example;
      expect(example(getTask['404'])).toEqual({ success: false, error: 'Task not found' });
      expect(example(getTask['401'])).toEqual({ success: false, error: 'Unauthorized' });
      expect(example(getTask['500'])).toEqual({ success: false, error: 'Internal server error' });
      expect(Object.keys(create.responses['400'].content['application/json'].examples)).toEqual([
        'Validation failed',
        'Invalid cron expression',
        'Invalid timezone',
        'Project not found',
      ]);
      const schemas = document.components.schemas;
      expect(schemas.ErrorResponseDto.properties).toHaveProperty('error');
      expect(schemas.CreateTaskDto.required).toEqual(expect.arrayContaining(['name', 'type', 'projectId', 'cronExpression']));
      expect(schemas.BackupConfigDto.properties.type.enum).toEqual(['full', 'volumes', 'config']);
      expect(schemas.TaskDetailDto.allOf ?? schemas.TaskDetailDto.properties).toBeDefined();
    });
  });

  describe('request ids', () => {
    it('returns the caller’s X-Request-Id, or makes one', async () => {
      const given = await t.api.get('/health', { key: null, headers: { 'x-request-id': 'abc-123' } });
      expect(given.headers.get('x-request-id')).toBe('abc-123');
      const made = await t.api.get('/api/v1/tasks');
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const unsafe = await t.api.get('/health', { key: null, headers: { 'x-request-id': 'x'.repeat(200) } });
      expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('CORS', () => {
    it('sends no CORS headers by default', async () => {
      const response = await t.api.request('OPTIONS', '/api/v1/tasks', {
        key: null,
        headers: { origin: 'https://admin.example.com', 'access-control-request-method': 'GET' },
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('allows the configured origins only', async () => {
      const cors = await startTestApp({ CORS_ORIGINS: 'https://admin.example.com, https://ops.example.com' });
      try {
        const preflight = await cors.api.request('OPTIONS', '/api/v1/tasks', {
          key: null,
          headers: {
            origin: 'https://ops.example.com',
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type',
          },
        });
        expect(preflight.status).toBe(204);
        expect(preflight.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
        expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
        const other = await cors.api.get('/api/v1/tasks', { headers: { origin: 'https://evil.example.com' } });
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await cors.close();
      }
    });
  });

  describe('configuration', () => {
    it.each([
      ['PORT', { PORT: 'eighty' }],
      ['PORT', { PORT: '70000' }],
      ['DATABASE_URL', { DATABASE_URL: 'mysql://root@localhost/db' }],
      ['ADMIN_API_KEY', { ADMIN_API_KEY: 'short' }],
      ['CUSTOM_HOST_COMMANDS', { CUSTOM_HOST_COMMANDS: 'sometimes' }],
      ['CORS_ORIGINS', { CORS_ORIGINS: 'not a url' }],
      ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
      ['DEFAULT_TIMEOUT_BACKUP_SECONDS', { DEFAULT_TIMEOUT_BACKUP_SECONDS: '0' }],
    ])('refuses to start with an invalid %s, naming it', async (variable, environment) => {
      const attempt = createApp({ DATA_DIR: t.dataDir, ...environment });
      await expect(attempt).rejects.toBeInstanceOf(InvalidEnvironmentError);
      await expect(attempt).rejects.toThrow(variable);
    });

    it('applies the configured default timeouts', async () => {
      const configured = await startTestApp({ DEFAULT_TIMEOUT_HEALTH_CHECK_SECONDS: '15' });
      try {
        const project = (await configured.api.post('/api/v1/projects', { id: `cfg-${Date.now()}`, name: 'cfg' })).body.project;
        const task = await configured.api.post('/api/v1/tasks', {
          name: 't',
          type: 'health-check',
          projectId: project.id,
          cronExpression: '@hourly',
        });
        expect(task.body.task.timeoutSeconds).toBe(15);
      } finally {
        await configured.close();
      }
    });
  });

  describe('migrations', () => {
    it('ran once, and a second start on the same database runs none again', async () => {
      const dataSource = t.app.get(DataSource);
      const applied = await dataSource.query('SELECT name FROM migrations');
      expect(applied.map((row: { name: string }) => row.name)).toContain('InitialSchema1795900000000');
      expect(await dataSource.showMigrations()).toBe(false);
    });
  });
});

describe('the service as a process', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    dataDir = mkdtempSync(join(tmpdir(), 'tasks-process-'));
  });
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses an invalid configuration with a message naming the variable', async () => {
    const failed = spawn(process.execPath, [MAIN], { env: { ...process.env, PORT: 'nope', DATA_DIR: dataDir }, stdio: 'pipe' });
    let stderr = '';
    failed.stderr!.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolveCode) => failed.on('exit', resolveCode));
    expect(code).toBe(1);
    expect(stderr).toMatch(/Invalid configuration[\s\S]*PORT/);
    expect(stderr).not.toMatch(/\bat \w+ \(/);
  });

  it('starts with nothing configured, writes the generated key to a 0600 file, logs JSON without secrets, stops on SIGTERM', async () => {
    const port = await freePort();
    const environment: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir };
    delete environment.ADMIN_API_KEY;
    // The embedded default unless this run is on PostgreSQL.
    child = spawn(process.execPath, [MAIN], { env: environment, stdio: 'pipe' });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));

    const base = `http://127.0.0.1:${port}`;
    for (let attempt = 0; attempt < 100; attempt++) {
      const up = await fetch(`${base}/health`).then((response) => response.ok, () => false);
      if (up) break;
      await new Promise((wait) => setTimeout(wait, 100));
    }
    const keyFile = join(dataDir, 'admin-api-key');
    // On SQLite the database is new, so a key is generated; the shared PostgreSQL database of
    // this run may already hold keys made by other files, and then none is.
    if (!process.env.DATABASE_URL) expect(existsSync(keyFile)).toBe(true);
    if (existsSync(keyFile)) {
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const key = readFileSync(keyFile, 'utf8').trim();
      const me = await fetch(`${base}/api/v1/me`, { headers: { 'x-api-key': key } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ permissions: ['*'], projectIds: null });
      expect(output).toContain(keyFile);
      expect(output).not.toContain(key);
    }
    child.kill('SIGTERM');
    const code = await new Promise((resolveCode) => child!.on('exit', (exitCode, signal) => resolveCode(exitCode ?? signal)));
    expect(code).toBe(0);

    // Read once the process is gone: every line flushed.
    const lines = output.trim().split('\n').filter(Boolean);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const requestLine = lines.map((line) => JSON.parse(line)).find((entry) => entry.message?.message === 'request');
    expect(requestLine?.message).toMatchObject({ method: 'GET', status: expect.any(Number), requestId: expect.any(String) });
  });
});
