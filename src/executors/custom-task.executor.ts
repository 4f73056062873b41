import { Inject, Injectable } from '@nestjs/common';
import { execInContainer, type ContainerExecResult } from '../docker/container-exec';
import { engineError } from '../docker/docker-engines';
import { ProjectContainers } from '../docker/project-containers';
import { ProjectsRepository } from '../projects/projects.repository';
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
  constructor(
    @Inject(CUSTOM_EXECUTOR_SETTINGS) private readonly settings: CustomExecutorSettings,
    private readonly projects: ProjectsRepository,
    private readonly containers: ProjectContainers,
  ) {}

  async execute(request: ExecutionRequest<'custom'>): Promise<ExecutionOutcome> {
    const { command, container } = request.task.config;
    if (container !== null) return this.executeInContainer(request, container);
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

  /** Docker exec in a container of the task's project, found by container or Compose service name. */
  private async executeInContainer(request: ExecutionRequest<'custom'>, name: string): Promise<ExecutionOutcome> {
    const project = await this.projects.findById(request.task.projectId);
    if (!project) throw new Error(`Project ${request.task.projectId} no longer exists`);
    const found = await this.containers.find(project, name, request.signal);
    if (!found) {
      return { status: 'failed', result: null, error: `No container or service named ${name} in project ${project.id}` };
    }
    if (found.state !== 'running') {
      return { status: 'failed', result: { container: found.name }, error: `Container ${found.name} is not running (${found.state})` };
    }
    const engine = this.containers.engineOf(project);
    let run: ContainerExecResult;
    try {
      run = await execInContainer(engine.docker.getContainer(found.id), request.task.config.command, {
        signal: request.signal,
        timeoutSeconds: request.task.timeoutSeconds,
        outputLimitBytes: this.settings.outputLimitBytes,
      });
    } catch (error) {
      throw engineError(engine, error);
    }
    const error = containerFailureReason(run, request.signal);
    return {
      status: error === undefined ? 'success' : 'failed',
      result: {
        container: found.name,
        exitCode: run.exitCode,
        durationMs: run.durationMs,
        stdoutTruncatedBytes: run.stdoutTruncatedBytes,
        stderrTruncatedBytes: run.stderrTruncatedBytes,
      },
      ...(error !== undefined && { error }),
      output: { stdout: run.stdout, stderr: run.stderr },
    };
  }
}

function containerFailureReason(run: ContainerExecResult, signal: AbortSignal): string | undefined {
  if (run.aborted) {
    const reason: unknown = signal.reason;
    return `Command stopped (${typeof reason === 'string' ? reason : 'aborted'})`;
  }
  if (run.exitCode === 0) return undefined;
  // 126/127: the shell could not run it; 124/143: the in-container `timeout` backstop ended it.
  return run.exitCode === null ? 'Command ended without an exit status' : `Command exited with code ${run.exitCode}`;
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
