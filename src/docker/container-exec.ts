import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { BoundedOutput } from '../executors/bounded-output';

export interface ContainerExecOptions {
  /** Aborting stops the command inside the container (TERM, then KILL after a grace period). */
  signal: AbortSignal;
  /** Backstop inside the container: `timeout` ends the command even if this service is gone. */
  timeoutSeconds: number;
  /** Per stream. */
  outputLimitBytes: number;
  killGraceMs?: number;
}

export interface ContainerExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  aborted: boolean;
  durationMs: number;
  stdoutTruncatedBytes: number;
  stderrTruncatedBytes: number;
}

const DEFAULT_KILL_GRACE_MS = 2000;
/** The wrapper's first stderr line: the command's PID inside the container, so it can be killed. */
const PID_LINE = /^dts-exec-pid:(\d+)\n/;

/**
 * The Docker API cannot kill an exec: the command runs under a small shell that reports its PID
 * (to kill it on cancel or timeout) and, where the image has `timeout`, under that as a backstop.
 * `$1` = seconds, `$2` = the command; needs /bin/sh in the container.
 */
const WRAPPER =
  'echo "dts-exec-pid:$$" >&2; ' +
  'if command -v timeout >/dev/null 2>&1; then exec timeout "$1" /bin/sh -c "$2"; fi; ' +
  'exec /bin/sh -c "$2"';

/** Runs `/bin/sh -c command` in a running container through Docker exec. Rejects only when the engine fails. */
export async function execInContainer(
  container: Docker.Container,
  command: string,
  options: ContainerExecOptions,
): Promise<ContainerExecResult> {
  const startedAt = performance.now();
  const stdout = new BoundedOutput(options.outputLimitBytes);
  const stderr = new BoundedOutput(options.outputLimitBytes);
  const result = (exitCode: number | null, aborted: boolean): ContainerExecResult => ({
    exitCode,
    aborted,
    stdout: stdout.toString(),
    stderr: stderr.toString(),
    durationMs: Math.round(performance.now() - startedAt),
    stdoutTruncatedBytes: stdout.truncatedBytes,
    stderrTruncatedBytes: stderr.truncatedBytes,
  });
  if (options.signal.aborted) return result(null, true);

  // A little past the run's own timeout: normally the service stops the command first.
  const backstopSeconds = String(Math.ceil(options.timeoutSeconds) + 5);
  const exec = await container.exec({
    Cmd: ['/bin/sh', '-c', WRAPPER, 'dts-exec', backstopSeconds, command],
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: false,
    Tty: false,
  });
  const stream = await exec.start({ hijack: true, stdin: false });

  let pid: number | null = null;
  let pending: Buffer | null = Buffer.alloc(0);
  const stderrSink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (pending === null) {
        stderr.write(chunk);
        return done();
      }
      pending = Buffer.concat([pending, chunk]);
      const text = pending.toString('latin1');
      const match = PID_LINE.exec(text);
      if (match) {
        pid = Number(match[1]);
        stderr.write(pending.subarray(match[0].length));
        pending = null;
      } else if (text.includes('\n') || pending.length > 64) {
        stderr.write(pending);
        pending = null;
      }
      done();
    },
  });
  const stdoutSink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stdout.write(chunk);
      done();
    },
  });
  container.modem.demuxStream(stream, stdoutSink, stderrSink);

  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });

  let aborted = false;
  const onAbort = () => {
    aborted = true;
    void stopCommand(container, () => pid, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS, ended);
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await ended;
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
  const { ExitCode } = await exec.inspect();
  return result(aborted ? null : (ExitCode ?? null), aborted);
}

/** TERM, then KILL if it is still there after the grace period; by a second exec in the same container. */
async function stopCommand(container: Docker.Container, pidOf: () => number | null, graceMs: number, ended: Promise<void>) {
  const signalCommand = async (signal: 'TERM' | 'KILL') => {
    const pid = pidOf();
    if (pid === null) return;
    try {
      // The process group too: GNU `timeout` runs the command as its child in a group of its own.
      const kill = `kill -${signal} -${pid} 2>/dev/null; kill -${signal} ${pid} 2>/dev/null`;
      const killer = await container.exec({ Cmd: ['/bin/sh', '-c', kill], AttachStdout: false, AttachStderr: false });
      await killer.start({ Detach: true });
    } catch {
      // The container may be gone or stopped: then so is the command.
    }
  };
  await signalCommand('TERM');
  const stillRunning = await Promise.race([ended.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), graceMs))]);
  if (stillRunning) await signalCommand('KILL');
}
