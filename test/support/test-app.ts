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
export async function startTestApp(environment: Record<string, string | undefined> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasks-e2e-'));
  const app = await createApp({
    DATABASE_URL: process.env.DATABASE_URL,
    DATA_DIR: dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    LOG_REQUESTS: 'false',
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
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const usingPostgres = (): boolean => Boolean(process.env.DATABASE_URL);
