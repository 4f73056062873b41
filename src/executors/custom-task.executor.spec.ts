import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  buildHostEnvironment,
  CUSTOM_EXECUTOR_SETTINGS,
  CustomTaskExecutor,
  type CustomExecutorSettings,
} from './custom-task.executor';
import { ProjectContainers } from '../docker/project-containers';
import { ProjectsRepository } from '../projects/projects.repository';
import type { ExecutionRequest } from './task-executor';

const settings = (overrides: Partial<CustomExecutorSettings> = {}): CustomExecutorSettings => ({
  hostCommandsEnabled: true,
  outputLimitBytes: 64 * 1024,
  hostEnvironment: { PATH: '/usr/local/bin:/usr/bin:/bin' },
  ...overrides,
});

const request = (
  command: string,
  { container = null, signal = new AbortController().signal }: { container?: string | null; signal?: AbortSignal } = {},
): ExecutionRequest<'custom'> => ({
  executionId: 'exec-1',
  task: {
    id: 'task-1',
    name: 'custom task',
    type: 'custom',
    projectId: 'project-1',
    config: { command, container },
    timeoutSeconds: 60,
  },
  signal,
  // A host command changes no containers the service knows of: neither is used.
  lockProject: () => Promise.resolve(),
  recordTouchedContainers: () => Promise.resolve(),
});

// Host commands never look up projects or containers: those collaborators stay unused here
// (commands in containers are tested against a real engine under test/engine/).
const hostExecutor = (executorSettings: CustomExecutorSettings) =>
  new CustomTaskExecutor(executorSettings, {} as ProjectsRepository, {} as ProjectContainers);

describe('CustomTaskExecutor', () => {
  it('succeeds on exit code 0 and keeps the output', async () => {
    const outcome = await hostExecutor(settings()).execute(request('echo out; echo err >&2'));
    expect(outcome).toMatchObject({
      status: 'success',
      result: { exitCode: 0, signal: null, stdoutTruncatedBytes: 0, stderrTruncatedBytes: 0 },
      output: { stdout: 'out\n', stderr: 'err\n' },
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.result?.durationMs).toEqual(expect.any(Number));
  });

  it('fails on a non-zero exit code', async () => {
    const outcome = await hostExecutor(settings()).execute(request('echo partial; exit 3'));
    expect(outcome).toMatchObject({
      status: 'failed',
      result: { exitCode: 3, signal: null },
      error: 'Command exited with code 3',
      output: { stdout: 'partial\n', stderr: '' },
    });
  });

  it('fails when the command is killed by a signal', async () => {
    const outcome = await hostExecutor(settings()).execute(request('kill -TERM $$'));
    expect(outcome).toMatchObject({
      status: 'failed',
      result: { exitCode: null, signal: 'SIGTERM' },
      error: 'Command killed by SIGTERM',
    });
  });

  it('stops the command when the run is aborted, saying why', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort('timeout'), 200);
    const started = Date.now();
    const outcome = await hostExecutor(settings()).execute(
      request('echo started; sleep 30', { signal: controller.signal }),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outcome).toMatchObject({
      status: 'failed',
      result: { exitCode: null, signal: 'SIGTERM' },
      error: 'Command stopped (timeout): killed by SIGTERM',
      output: { stdout: 'started\n' },
    });
  });

  it('does not start a command whose run is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('cancelled');
    const outcome = await hostExecutor(settings()).execute(
      request('echo never', { signal: controller.signal }),
    );
    expect(outcome).toMatchObject({ status: 'failed', error: 'Command not started (cancelled)' });
    expect(outcome.output?.stdout).toBe('');
  });

  it('bounds each stream to outputLimitBytes', async () => {
    const outcome = await hostExecutor(settings({ outputLimitBytes: 100 })).execute(
      request('yes | head -c 100000; yes e | head -c 5000 >&2'),
    );
    expect(outcome.status).toBe('success');
    expect(outcome.result).toMatchObject({ stdoutTruncatedBytes: 99_900, stderrTruncatedBytes: 4900 });
    expect(outcome.output?.stdout).toContain('[… 99900 bytes omitted …]');
    expect(outcome.output?.stderr).toContain('[… 4900 bytes omitted …]');
  });

  it('passes only the configured host environment', async () => {
    process.env.SECRET_TEST_VALUE = 'do-not-leak';
    try {
      const outcome = await hostExecutor(
        settings({ hostEnvironment: { PATH: '/usr/bin:/bin', TZ: 'UTC' } }),
      ).execute(request('echo "[$TZ][$SECRET_TEST_VALUE]"'));
      expect(outcome.output?.stdout).toBe('[UTC][]\n');
    } finally {
      delete process.env.SECRET_TEST_VALUE;
    }
  });

  it('runs as the configured user, or reports why it cannot start', async () => {
    const nobody = { uid: 65534, gid: 65534, name: 'nobody' };
    const outcome = await hostExecutor(settings({ hostCommandsUser: nobody })).execute(request('id -u'));
    if (process.getuid?.() === 0) {
      expect(outcome).toMatchObject({ status: 'success', result: { user: 'nobody' }, output: { stdout: '65534\n' } });
    } else {
      expect(outcome).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Command could not start: .*EPERM/) });
    }
  });

  it('refuses host commands when they are disabled, without running them', async () => {
    const outcome = await hostExecutor(settings({ hostCommandsEnabled: false })).execute(
      request('echo never'),
    );
    expect(outcome).toEqual({
      status: 'failed',
      result: null,
      error: 'Host commands are disabled on this server (CUSTOM_HOST_COMMANDS=disabled)',
    });
  });

  it('gets its settings from Nest through CUSTOM_EXECUTOR_SETTINGS', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        CustomTaskExecutor,
        { provide: CUSTOM_EXECUTOR_SETTINGS, useValue: settings() },
        { provide: ProjectsRepository, useValue: {} },
        { provide: ProjectContainers, useValue: {} },
      ],
    }).compile();
    const outcome = await moduleRef.get(CustomTaskExecutor).execute(request('echo via nest'));
    expect(outcome.output?.stdout).toBe('via nest\n');
    await moduleRef.close();
  });
});

describe('buildHostEnvironment', () => {
  it('keeps only PATH, LANG, LC_ALL, TZ and HOME', () => {
    const env = buildHostEnvironment({
      PATH: '/opt/bin:/usr/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'Europe/Paris',
      HOME: '/home/svc',
      ADMIN_API_KEY: 'admin-key',
      DATABASE_URL: 'postgres://user:pw@db/tasks',
      S3_ACCESS_KEY_ID: 'AKIA',
      S3_SECRET_ACCESS_KEY: 's3-secret',
      BACKUP_AGE_PASSPHRASE: 'passphrase',
      ALERT_WEBHOOK_URL: 'https://hooks.example/token',
      SOMETHING_UNKNOWN: 'x',
    });
    expect(env).toEqual({
      PATH: '/opt/bin:/usr/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'Europe/Paris',
      HOME: '/home/svc',
    });
  });

  it('defaults PATH and leaves out unset variables', () => {
    expect(buildHostEnvironment({ DATABASE_URL: 'postgres://x' })).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    });
  });
});
