import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BoundedOutput } from './bounded-output';

export interface HostCommandOptions {
  /** Aborting kills the command's whole process group. */
  signal: AbortSignal;
  /** Per stream: stdout and stderr are each kept to this many bytes. */
  outputLimitBytes: number;
  /** The command's complete environment: nothing of `process.env` is added. */
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  cwd?: string;
  /** Between SIGTERM and SIGKILL to the group after an abort. */
  killGraceMs?: number;
}

export interface HostCommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  aborted: boolean;
  durationMs: number;
  /** Set when the command never ran (bad cwd, setuid refused, …); also written to `stderr`. */
  startError?: string;
  stdoutTruncatedBytes: number;
  stderrTruncatedBytes: number;
}

const DEFAULT_KILL_GRACE_MS = 2000;
/** How long pipes may stay open after the shell exits (a background child holding them). */
const PIPE_DRAIN_MS = 1000;

/** Runs `/bin/sh -c command` in its own process group. Never rejects. */
export function runHostCommand(command: string, options: HostCommandOptions): Promise<HostCommandResult> {
  const startedAt = performance.now();
  const stdout = new BoundedOutput(options.outputLimitBytes);
  const stderr = new BoundedOutput(options.outputLimitBytes);
  const result = (fields: Pick<HostCommandResult, 'exitCode' | 'signal' | 'aborted'>): HostCommandResult => ({
    ...fields,
    stdout: stdout.toString(),
    stderr: stderr.toString(),
    durationMs: Math.round(performance.now() - startedAt),
    stdoutTruncatedBytes: stdout.truncatedBytes,
    stderrTruncatedBytes: stderr.truncatedBytes,
  });
  const startFailure = (error: unknown): HostCommandResult => {
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(message);
    return { ...result({ exitCode: null, signal: null, aborted: false }), startError: message };
  };

  if (options.signal.aborted) {
    return Promise.resolve(result({ exitCode: null, signal: null, aborted: true }));
  }

  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', command], {
      // Own process group, so an abort reaches everything the command started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env,
      cwd: options.cwd,
      ...(options.uid !== undefined && { uid: options.uid }),
      ...(options.gid !== undefined && { gid: options.gid }),
    });
  } catch (error) {
    // Some failures (EPERM from setuid/setgid) are thrown rather than emitted.
    return Promise.resolve(startFailure(error));
  }

  return new Promise<HostCommandResult>((resolve) => {
    let aborted = false;
    let exited = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };

    const onAbort = (): void => {
      if (exited) return;
      aborted = true;
      killGroup('SIGTERM');
      // Left running after we resolve: a grandchild ignoring SIGTERM must still die.
      setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };

    const settle = (value: HostCommandResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(drainTimer);
      options.signal.removeEventListener('abort', onAbort);
      resolve(value);
    };

    child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    // Read errors on our pipe ends only cut the output short; they must not crash the service.
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('error', () => undefined);

    child.once('error', (error) => {
      if (child.pid === undefined) {
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle(startFailure(error));
      }
    });

    child.once('exit', (code, signal) => {
      exited = true;
      // A background grandchild may hold the pipes open indefinitely: stop reading after a grace.
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle(result({ exitCode: code, signal, aborted }));
      }, PIPE_DRAIN_MS);
    });

    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      settle(result({ exitCode: code, signal, aborted }));
    });

    options.signal.addEventListener('abort', onAbort, { once: true });
  });
}
