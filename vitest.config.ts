import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// esbuild emits no decorator metadata, which Nest's constructor injection needs: SWC does.
const swcPlugin = swc.vite({
  module: { type: 'es6' },
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
});

export default defineConfig({
  plugins: [swcPlugin],
  test: {
    projects: [
      {
        plugins: [swcPlugin],
        test: { name: 'unit', include: ['src/**/*.spec.ts'], environment: 'node' },
      },
      {
        plugins: [swcPlugin],
        test: {
          name: 'e2e',
          include: ['test/*.e2e-spec.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        plugins: [swcPlugin],
        test: {
          // Real containers on the engines scripts/test-env.sh starts (npm test runs it first).
          name: 'e2e-engine',
          include: ['test/engine/*.e2e-spec.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        plugins: [swcPlugin],
        test: {
          // The backup archive and stores against the age CLI and an S3 server on loopback; each file in its own process (RSS figures).
          name: 'e2e-backups',
          include: ['test/backups/*.e2e-spec.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [swcPlugin],
        test: {
          // Several service processes on one PostgreSQL database: run with E2E_DATABASE=postgres.
          name: 'e2e-replicas',
          include: ['test/replicas/*.e2e-spec.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
