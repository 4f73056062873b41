import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runHostCommand, type HostCommandOptions } from './host-command';

const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };

const run = (command: string, options: Partial<HostCommandOptions> = {}) =>
  runHostCommand(command, {
    signal: new AbortController().signal,
    outputLimitBytes: 64 * 1024,
    env: ENV,
    ...options,
  });

/**
 * A killed grandchild is orphaned and stays a zombie until PID 1 reaps it, which may take a
 * while (or never, without an init): a zombie has died, so it counts as gone.
 */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Polls until `pid` is gone; false if it outlives `withinMs`. */
async function diesWithin(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(25);
  }
  return !isAlive(pid);
}

let dir: string;
const leftovers: number[] = [];
const readPid = (file: string): number => {
  const pid = Number(readFileSync(file, 'utf8').trim());
  leftovers.push(pid);
  return pid;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'host-command-'));
});
afterEach(() => {
  // A failed assertion must not leave sleeps behind.
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runHostCommand', () => {
  it('reports exit code 0 and the output', async () => {
    const result = await run('echo hello');
    expect(result).toMatchObject({ exitCode: 0, signal: null, stdout: 'hello\n', stderr: '', aborted: false });
    expect(result.startError).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a non-zero exit code and keeps stdout and stderr apart', async () => {
    const result = await run('echo out; echo err >&2; exit 3');
    expect(result).toMatchObject({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', aborted: false });
  });

  it('bounds large output', async () => {
    const result = await run('yes | head -c 5000000', { outputLimitBytes: 1000 });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutTruncatedBytes).toBe(5_000_000 - 1000);
    expect(result.stdout).toMatch(/^(y\n){250}\n\[… 4999000 bytes omitted …\]\n(y\n){250}$/);
  });

  it('passes exactly the given environment, nothing from process.env', async () => {
    process.env.SECRET_TEST_VALUE = 'do-not-leak';
    try {
      const result = await run('env', { env: { ...ENV, ONLY_THIS: 'yes' } });
      const vars = Object.fromEntries(
        result.stdout
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      // The shell itself exports PWD (and bash also SHLVL and _).
      for (const own of ['PWD', 'SHLVL', '_']) delete vars[own];
      expect(vars).toEqual({ ...ENV, ONLY_THIS: 'yes' });
      expect(result.stdout).not.toContain('do-not-leak');
    } finally {
      delete process.env.SECRET_TEST_VALUE;
    }
  });

  it('runs in the given cwd', async () => {
    const result = await run('pwd', { cwd: dir });
    expect(result.stdout.trim()).toBe(dir);
  });

  it('kills the whole process group on abort', async () => {
    const pidFile = join(dir, 'abort.pid');
    const controller = new AbortController();
    const started = Date.now();
    const pending = run(`sleep 30 & echo $! > ${pidFile}; wait`, { signal: controller.signal });
    await sleep(300);
    const grandchild = readPid(pidFile);
    expect(isAlive(grandchild)).toBe(true);

    controller.abort('timeout');
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ aborted: true, exitCode: null, signal: 'SIGTERM' });
    expect(await diesWithin(grandchild, 2000)).toBe(true);
  });

  it('SIGKILLs a command that ignores SIGTERM after killGraceMs', async () => {
    const pidFile = join(dir, 'trap.pid');
    const controller = new AbortController();
    const pending = run(`trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`, {
      signal: controller.signal,
      killGraceMs: 300,
    });
    await sleep(300);
    const grandchild = readPid(pidFile);

    const abortedAt = Date.now();
    controller.abort('cancelled');
    const result = await pending;
    const tookMs = Date.now() - abortedAt;
    expect(result).toMatchObject({ aborted: true, exitCode: null, signal: 'SIGKILL' });
    expect(tookMs).toBeGreaterThanOrEqual(250);
    expect(tookMs).toBeLessThan(1500);
    expect(await diesWithin(grandchild, 2000)).toBe(true);
  });

  it('does not start anything when the signal is already aborted', async () => {
    const marker = join(dir, 'never-created');
    const controller = new AbortController();
    controller.abort('cancelled');
    const result = await run(`touch ${marker}`, { signal: controller.signal });
    expect(result).toMatchObject({ aborted: true, exitCode: null, signal: null, stdout: '', stderr: '' });
    await sleep(100);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('does not hang when a background child keeps stdout open', async () => {
    const pidFile = join(dir, 'background.pid');
    const started = Date.now();
    const result = await run(`(sleep 30 & echo $! > ${pidFile}) ; echo done`);
    readPid(pidFile);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'done\n', aborted: false });
  });

  it('resolves with the error when the cwd does not exist', async () => {
    const result = await run('echo never', { cwd: join(dir, 'missing') });
    expect(result.exitCode).toBeNull();
    expect(result.signal).toBeNull();
    expect(result.aborted).toBe(false);
    expect(result.startError).toMatch(/ENOENT/);
    expect(result.stderr).toContain(result.startError);
    expect(result.stdout).toBe('');
  });

  it('runs as another user, or reports why it cannot', async () => {
    const nobody = 65534;
    const result = await run('id -u; id -g', { uid: nobody, gid: nobody });
    if (process.getuid?.() === 0) {
      expect(result).toMatchObject({ exitCode: 0, stdout: `${nobody}\n${nobody}\n` });
    } else {
      // Without the right to switch users the start fails: reported, not thrown.
      expect(result.exitCode).toBeNull();
      expect(result.startError).toMatch(/EPERM/);
    }
  });
});
