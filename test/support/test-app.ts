import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.setup';
import { ApiClient } from './api-client';

export const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';

export interface TestApp {
  app: NestFastifyApplication;
  api: ApiClient;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The real application, listening on loopback, on this run's database (PostgreSQL when the
 * run was started with E2E_DATABASE=postgres, else a SQLite file of its own).
 */
export async function startTestApp(
  environment: Record<string, string | undefined> = {},
  options: { dataDir?: string } = {},
): Promise<TestApp> {
  // A given data directory outlives the app (a restart on the same SQLite file); a made one does not.
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tasks-e2e-'));
  const app = await createApp({
    DATABASE_URL: process.env.DATABASE_URL,
    DATA_DIR: dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    LOG_REQUESTS: 'false',
    // The engine scripts/test-env.sh started, so that readiness sees one; tests may name another.
    DOCKER_HOST: process.env.E2E_DOCKER_HOST,
    // Built locally by scripts/test-env.sh: nothing may be pulled from outside.
    BACKUP_HELPER_IMAGE: 'localhost/busybox:1',
    ...environment,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no listening address');
  const api = new ApiClient(`http://127.0.0.1:${address.port}`, ADMIN_KEY);
  return {
    app,
    api,
    dataDir,
    async close() {
      await app.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const usingPostgres = (): boolean => Boolean(process.env.DATABASE_URL);

/**
 * A database of its own, for scenarios that need no other scheduler around (catch-up after every
 * replica was down, several replicas): a new PostgreSQL database on this run's server, or — on
 * SQLite — the fresh file every app already gets. Returns the environment to start apps with.
 */
export async function isolatedDatabase(): Promise<{ environment: Record<string, string>; drop(): Promise<void> }> {
  const runUrl = process.env.DATABASE_URL;
  if (!runUrl) return { environment: {}, drop: async () => undefined };
  const { Client } = await import('pg');
  const adminUrl = new URL(runUrl);
  adminUrl.pathname = '/postgres';
  const name = `tasks_e2e_iso_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  return {
    environment: { DATABASE_URL: url.toString() },
    async drop() {
      const client = new Client({ connectionString: adminUrl.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
