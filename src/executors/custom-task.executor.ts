import { Inject, Injectable } from '@nestjs/common';
import { runHostCommand, type HostCommandResult } from './host-command';
import type { ExecutionOutcome, ExecutionRequest, TaskExecutor } from './task-executor';

export interface CustomExecutorSettings {
  /** `CUSTOM_HOST_COMMANDS=enabled`. */
  hostCommandsEnabled: boolean;
  /** `CUSTOM_HOST_COMMANDS_USER`, resolved; absent = the service's own user. */
  hostCommandsUser?: { uid: number; gid: number; name: string };
  /** Per stream (stdout, stderr). */
  outputLimitBytes: number;
  /** The host command's whole environment: see `buildHostEnvironment`. */
  hostEnvironment: Record<string, string>;
}

export const CUSTOM_EXECUTOR_SETTINGS = Symbol('CUSTOM_EXECUTOR_SETTINGS');

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PASSED_THROUGH = ['LANG', 'LC_ALL', 'TZ', 'HOME'] as const;

/**
 * The environment host commands get: an allowlist, so none of the service's secrets (API keys,
 * database URL, S3 credentials, passphrases, webhook URLs) nor anything unknown reaches them.
 */
export function buildHostEnvironment(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = { PATH: source.PATH || DEFAULT_PATH };
  for (const name of PASSED_THROUGH) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

@Injectable()
export class CustomTaskExecutor implements TaskExecutor<'custom'> {
  constructor(@Inject(CUSTOM_EXECUTOR_SETTINGS) private readonly settings: CustomExecutorSettings) {}

  async execute(request: ExecutionRequest<'custom'>): Promise<ExecutionOutcome> {
    const { command, container } = request.task.config;
    if (container !== null) {
      // Docker exec mode arrives with its own issue.
      return { status: 'failed', result: null, error: 'Running commands in a container is not available yet' };
    }
    if (!this.settings.hostCommandsEnabled) {
      return {
        status: 'failed',
        result: null,
        error: 'Host commands are disabled on this server (CUSTOM_HOST_COMMANDS=disabled)',
      };
    }

    const user = this.settings.hostCommandsUser;
    const run = await runHostCommand(command, {
      signal: request.signal,
      outputLimitBytes: this.settings.outputLimitBytes,
      env: this.settings.hostEnvironment,
      uid: user?.uid,
      gid: user?.gid,
    });
    const error = failureReason(run, request.signal);
    return {
      status: error === undefined ? 'success' : 'failed',
      result: {
        exitCode: run.exitCode,
        signal: run.signal,
        durationMs: run.durationMs,
        stdoutTruncatedBytes: run.stdoutTruncatedBytes,
        stderrTruncatedBytes: run.stderrTruncatedBytes,
        ...(user && { user: user.name }),
      },
      ...(error !== undefined && { error }),
      output: { stdout: run.stdout, stderr: run.stderr },
    };
  }
}

function failureReason(run: HostCommandResult, signal: AbortSignal): string | undefined {
  if (run.startError !== undefined) return `Command could not start: ${run.startError}`;
  const ending =
    run.signal !== null ? `killed by ${run.signal}` : run.exitCode !== null ? `exited with code ${run.exitCode}` : null;
  if (run.aborted) {
    const reason: unknown = signal.reason;
    const why = typeof reason === 'string' ? reason : 'aborted';
    return ending === null ? `Command not started (${why})` : `Command stopped (${why}): ${ending}`;
  }
  return run.exitCode === 0 ? undefined : `Command ${ending ?? 'ended without an exit status'}`;
}
