// Backup benchmark (`npm run bench:backup`): the backup executor, end to end, against the
// same work done by a shell pipeline in the same run.
//
// For each volume size (default 256 MiB and 1 GiB): a Compose-labelled project with one named
// volume, filled in its container with N bytes from /dev/urandom plus 300 small files; a fresh
// service process (dist/src/main.js, embedded SQLite in a temp DATA_DIR: the database is not on
// the backup's path) with a local destination and an s3rver (separate process, loopback) as
// S3; then BENCH_ROUNDS rounds, each (in rotated order) of:
//   - pipeline  `tar -C <volume mountpoint> -cf - . | gzip > file`            (baseline, plain)
//   - pipeline  `tar -C <volume mountpoint> -cf - . | gzip | age -r R > file` (baseline, encrypted)
//   - service   backup type `volumes`, destination local / s3, encrypt false / true
//     (POST /api/v1/tasks/:id/run, which answers when the run is over)
// Measured per run: wall time (the run request / the pipeline process), the result's
// durationMs and size, CPU seconds of the service or the pipeline, of the engine's API process
// and of s3rver (/proc/<pid>/stat) and of the whole machine (/proc/stat), and for service runs the RSS of the service: VmRSS sampled every 20 ms while
// the request is in flight (peak - RSS just before the run = growth), cross-checked with VmHWM
// after resetting it (`echo 5 > /proc/<pid>/clear_refs`). After each pipeline run the output is
// also fsync'd and hashed (`sync FILE`, `sha256sum FILE`), timed apart: the local store does
// both (fsync before rename, read back and compare), the plain pipeline does not.
//
// Needs: the container engine of scripts/test-env.sh (run here unless E2E_DOCKER_HOST is set),
// the `age`, `age-keygen`, `tar`, `gzip` CLIs, and dist/ (rebuilt when older than src/, see
// BENCH_BUILD). Everything is on loopback / unix sockets; every container, volume, temp dir and
// child process is removed at the end, also on failure or Ctrl-C.
//
// Env: BENCH_SIZES (MiB, default 256,1024), BENCH_ROUNDS (3), BENCH_DESTINATIONS (local,s3),
// BENCH_MAX_LOAD (wait, up to BENCH_LOAD_WAIT s (default 120), for the 1-min load average to
// drop below this; default 1.5), BENCH_SAMPLE_MS (RSS sampling interval, 20), BENCH_BUILD=1
// (rebuild even if dist/ is fresh) or 0 (never build), BENCH_CPU_PROF=<dir> (the service's main
// thread is profiled as --cpu-prof would, 1 ms sampling, a .cpuprofile per service written there at
// exit), BENCH_KEEP_LOGS=1 (service log lines to stderr).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import {
  HOST,
  MAIN,
  ROOT,
  log,
  machineFacts,
  median,
  nestBuild,
  owned,
  positive,
  positiveInt,
  rebuildReason,
  run,
  spawnService,
  srcIsNewer,
  stampLogs,
  stopChild,
} from './support.mjs';

const MiB = 2 ** 20;
const settings = {
  sizesMiB: (process.env.BENCH_SIZES || '256,1024').split(',').map((s) => positive('BENCH_SIZES', s.trim())),
  rounds: positiveInt('BENCH_ROUNDS', 3),
  destinations: (process.env.BENCH_DESTINATIONS || 'local,s3').split(',').map((s) => s.trim()),
  maxLoad: Number(process.env.BENCH_MAX_LOAD || 1.5),
  loadWaitS: positiveInt('BENCH_LOAD_WAIT', 120),
  sampleMs: positiveInt('BENCH_SAMPLE_MS', 20),
  cpuProfDir: process.env.BENCH_CPU_PROF || null,
  keepLogs: process.env.BENCH_KEEP_LOGS === '1',
};
for (const destination of settings.destinations) {
  if (destination !== 'local' && destination !== 's3') throw new Error(`BENCH_DESTINATIONS: unknown destination "${destination}"`);
}
const AIMS = { throughputRatio: 0.7, rssGrowthBytes: 150e6 };
const SMALL_FILES = 300;
const BUCKET = 'backups';
const S3_ACCESS_KEY_ID = 'S3RVER'; // the only key s3rver knows; it does not check signatures
const S3_SECRET = 'bench-s3-secret-access-key';
const BACKUP_PATH_FILES = [
  'executors/backup.executor.js',
  'backups/backup-stores.js',
  'backups/archive/backup-archive.js',
  'backups/archive/age-stream.js',
  'backups/archive/tar-entries.js',
  'backups/storage/local-store.js',
  'backups/storage/s3-store.js',
  'backups/storage/content-digest.js',
];
const notes = [];

// ---------------------------------------------------------------- small helpers
const sec = (ms, digits = 1) => (ms === null || ms === undefined || Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(digits));
const mib = (bytes, digits = 1) => (bytes === null || bytes === undefined || Number.isNaN(bytes) ? 'n/a' : (bytes / MiB).toFixed(digits));
const sizeLabel = (m) => (m % 1024 === 0 ? `${m / 1024} GiB` : `${m} MiB`);

/** Runs a command to completion; returns its stdout, throws with its stderr. */
function command(file, args, options = {}) {
  const result = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 16 * MiB, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${result.status}: ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
  return result.stdout;
}

function versionOf(file, args = ['--version']) {
  try {
    const result = spawnSync(file, args, { encoding: 'utf8' });
    return `${result.stdout}${result.stderr}`.split('\n')[0].trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Resets VmHWM to the current RSS; false where the kernel refuses. */
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
/** user+system CPU seconds of a process (and of its children it has reaped), or NaN if it is gone. */
function cpuSecondsOf(pid, withChildren = false) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return (fields[11] + fields[12] + (withChildren ? fields[13] + fields[14] : 0)) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** The engine's API process (Podman's `system service` on this socket), or null if not found (e.g. Docker). */
function enginePid(socketPath) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes('service') && cmdline.some((arg) => arg.endsWith(socketPath))) return Number(entry);
    } catch {
      // gone
    }
  }
  return null;
}

/** Busy CPU seconds of the whole machine (all CPUs, excluding idle and iowait). */
function machineBusySeconds() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** A JSON request to the service without client-side timeouts (a backup run can take minutes). */
function apiRequest(service, method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(path, service.base);
    const req = request(
      url,
      {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${service.apiKey}`,
          ...(payload && { 'content-type': 'application/json', 'content-length': payload.length }),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function expectStatus(service, method, path, expected, body) {
  const response = await apiRequest(service, method, path, body);
  if (response.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${response.status}: ${response.text.slice(0, 400)}`);
  return response.json;
}

// ---------------------------------------------------------------- environment
/** E2E_DOCKER_HOST from the caller, or from scripts/test-env.sh (which starts the engines if needed). */
function engineHost() {
  if (process.env.E2E_DOCKER_HOST) return process.env.E2E_DOCKER_HOST;
  log('running scripts/test-env.sh (container engine)');
  const result = spawnSync('bash', [join(ROOT, 'scripts', 'test-env.sh')], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`scripts/test-env.sh failed (exit ${result.status})`);
  const match = /^export E2E_DOCKER_HOST=(.+)$/m.exec(result.stdout);
  if (!match) throw new Error(`scripts/test-env.sh printed no E2E_DOCKER_HOST: ${result.stdout}`);
  // `printf %q` quoting: the socket path has no special characters, but undo backslash escapes anyway.
  return match[1].replace(/^'(.*)'$/, '$1').replace(/\\(.)/g, '$1');
}

function ensureBuilt() {
  if (process.env.BENCH_BUILD === '0') {
    if (!existsSync(MAIN)) throw new Error('dist/src/main.js is missing and BENCH_BUILD=0');
    if (srcIsNewer()) notes.push('src/ is newer than dist/ (BENCH_BUILD=0): measured the existing build');
    return;
  }
  const reason = rebuildReason();
  if (reason && !nestBuild(reason)) {
    if (!existsSync(MAIN)) throw new Error('nest build failed and there is no dist/src/main.js');
    notes.push(`nest build failed (${reason}); measured the existing build instead`);
  }
}

/** Which backup code was measured: a short hash of the built backup path. */
function buildFingerprint() {
  const hash = createHash('sha256');
  for (const file of BACKUP_PATH_FILES) {
    const path = join(ROOT, 'dist', 'src', file);
    if (existsSync(path)) hash.update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 12);
}

function makeAgeKey(dir) {
  const file = join(dir, 'age-identity.txt');
  command('age-keygen', ['-o', file]);
  const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(file, 'utf8'))?.[1];
  if (!recipient) throw new Error('age-keygen wrote no public key');
  return recipient;
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = createConnection(port, HOST);
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** s3rver as its own process on loopback (its CLI, as test/backups/support/s3-server.ts starts it). */
async function startS3rver(directory) {
  const port = await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port: free } = server.address();
      server.close(() => resolve(free));
    });
  });
  mkdirSync(directory, { recursive: true });
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 's3rver', 'bin', 's3rver.js'), '-a', HOST, '-p', String(port), '-d', directory, '--silent', '--configure-bucket', BUCKET],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
  const stop = owned(async () => {
    await stopChild(child);
    log('stopped s3rver');
  });
  for (let attempt = 0; ; attempt++) {
    if (await portOpen(port)) break;
    if (attempt > 400 || child.exitCode !== null) {
      await stop();
      throw new Error(`s3rver did not start on ${HOST}:${port}: ${stderr}`);
    }
    await sleep(25);
  }
  const endpoint = `http://${HOST}:${port}`;
  log(`s3rver on ${endpoint}, bucket ${BUCKET}, pid ${child.pid}`);
  return { endpoint, pid: child.pid, stop, stderr: () => stderr };
}

// ---------------------------------------------------------------- engine: project, volume, data
/** Runs `script` with /bin/sh in the container; resolves with its output, rejects on a non-zero exit. */
async function execIn(container, script) {
  const exec = await container.exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  await new Promise((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });
  let info = await exec.inspect();
  for (let i = 0; i < 100 && info.Running; i++) {
    await sleep(50);
    info = await exec.inspect();
  }
  // The stream is multiplexed (8-byte frame headers): keep the printable part for error messages.
  const output = [...Buffer.concat(chunks).toString('latin1')].filter((ch) => ch >= ' ' || ch === '\n').join('');
  if (info.ExitCode !== 0) throw new Error(`exec in container exited with ${info.ExitCode}: ${output.slice(0, 500)}`);
  return output;
}

/** A Compose-labelled project: one named volume, one container mounting it at /data, filled. */
async function createProjectData(docker, projectId, bytes, ctxWork) {
  const volumeName = `${projectId}_data`;
  const containerName = `${projectId}-db-1`;
  const labels = { 'com.docker.compose.project': projectId };
  await docker.createVolume({ Name: volumeName, Labels: labels });
  const removeVolume = owned(async () => {
    await docker.getVolume(volumeName).remove({ force: true });
    log(`removed volume ${volumeName}`);
  });
  const container = await docker.createContainer({
    name: containerName,
    Image: 'localhost/busybox:1',
    Cmd: ['sleep', '3600'],
    Labels: { ...labels, 'com.docker.compose.service': 'db' },
    HostConfig: { Binds: [`${volumeName}:/data`] },
  });
  const removeContainer = owned(async () => {
    await container.remove({ force: true });
    log(`removed container ${containerName}`);
  });
  await container.start();
  const started = performance.now();
  await execIn(
    container,
    [
      'mkdir -p /data/small/a/b /data/small/c',
      `i=0; while [ $i -lt ${SMALL_FILES} ]; do echo "small file $i" > /data/small/a/b/f$i.txt; i=$((i+1)); done`,
      `head -c ${bytes} /dev/urandom > /data/big.bin`,
      'sync',
    ].join(' && '),
  );
  const mountpoint = (await docker.getVolume(volumeName).inspect()).Mountpoint;
  const bigSize = statSync(join(mountpoint, 'big.bin')).size;
  if (bigSize !== bytes) throw new Error(`${mountpoint}/big.bin holds ${bigSize} bytes, expected ${bytes}`);
  const smallCount = readdirSync(join(mountpoint, 'small', 'a', 'b')).length;
  if (smallCount !== SMALL_FILES) throw new Error(`${mountpoint}/small/a/b holds ${smallCount} files, expected ${SMALL_FILES}`);
  const inputBytes = Number(command('du', ['-sb', mountpoint]).split('\t')[0]);
  const sameFs = statSync(mountpoint).dev === statSync(ctxWork).dev;
  log(`filled volume ${volumeName} (${mib(bytes, 0)} MiB random + ${SMALL_FILES} small files) in ${sec(performance.now() - started)} s; mountpoint ${mountpoint}`);
  return {
    volumeName,
    mountpoint,
    inputBytes,
    sameFs,
    remove: async () => {
      await removeContainer();
      await removeVolume();
    },
  };
}

// ---------------------------------------------------------------- the service
/**
 * `--cpu-prof` is refused in NODE_OPTIONS (and spawnService takes no node flags): a preload in the
 * temp dir starts the same V8 sampling profiler through the inspector and writes the profile at exit.
 */
let preloadPath = null;
function cpuProfilePreload() {
  if (preloadPath) return preloadPath;
  preloadPath = join(mkdtempSync(join(os.tmpdir(), 'bench-backup-prof-')), 'cpu-profile.cjs');
  owned(() => rmSync(join(preloadPath, '..'), { recursive: true, force: true }));
  writeFileSync(
    preloadPath,
    [
      "const inspector = require('node:inspector');",
      "const { writeFileSync } = require('node:fs');",
      'const session = new inspector.Session();',
      'session.connect();',
      "session.post('Profiler.enable');",
      "session.post('Profiler.setSamplingInterval', { interval: 1000 });",
      "session.post('Profiler.start');",
      "process.on('exit', () => {",
      "  session.post('Profiler.stop', (error, result) => {",
      `    if (!error) writeFileSync(${JSON.stringify(settings.cpuProfDir)} + '/service-' + process.pid + '.cpuprofile', JSON.stringify(result.profile));`,
      '  });',
      '});',
      '',
    ].join('\n'),
  );
  return preloadPath;
}

async function startService(env) {
  const { child, base, apiKey, stop } = await spawnService(undefined, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      LOG_LEVEL: 'warn',
      LOG_REQUESTS: 'false',
      ...(settings.cpuProfDir && { NODE_OPTIONS: `--require=${cpuProfilePreload()}` }),
      ...env,
    },
    graceMs: 15_000,
  });
  const service = { child, pid: child.pid, base, apiKey, stop, lines: [], errors: 0 };
  const onLine = (line) => {
    if (!line.trim()) return;
    if (settings.keepLogs) process.stderr.write(`[service] ${line}\n`);
    if (/"level":"(error|fatal)"|\bERROR\b/.test(line)) service.errors += 1;
    service.lines.push(line.slice(0, 400));
    if (service.lines.length > 20) service.lines.shift();
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`service exited during start-up: ${service.lines.join(' | ')}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('service did not answer /health within 60 s');
    await sleep(100);
  }
  return service;
}

// ---------------------------------------------------------------- measuring
/** One backup through the API, with the service's RSS sampled while the request is in flight. */
async function serviceRun(service, taskId, config) {
  const rssBefore = rssOf(service.pid).rss;
  const hwmReset = resetPeak(service.pid);
  const cpuBefore = cpuSecondsOf(service.pid);
  const machineBefore = machineBusySeconds();
  const s3Before = config.s3Pid ? cpuSecondsOf(config.s3Pid) : NaN;
  const engineBefore = config.enginePid ? cpuSecondsOf(config.enginePid, true) : NaN;
  let peak = rssBefore;
  let samples = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(service.pid).rss);
      samples += 1;
    } catch {
      // the process is gone: the request fails below
    }
  }, settings.sampleMs);
  const started = performance.now();
  let response;
  try {
    response = await apiRequest(service, 'POST', `/api/v1/tasks/${taskId}/run`);
  } catch (error) {
    // Most likely the service died: say how, with its last words.
    await Promise.race([new Promise((resolve) => service.child.once('exit', resolve)), sleep(2000)]);
    const exit = service.child.exitCode ?? service.child.signalCode;
    throw new Error(
      `backup run (${config.label}) request failed after ${sec(performance.now() - started, 2)} s: ${error.message}; ` +
        `service ${exit === null ? 'still running' : `exited (${exit})`}, RSS peak ${mib(peak)} MiB; last log lines: ${service.lines.slice(-8).join(' | ')}`,
    );
  } finally {
    clearInterval(timer);
  }
  const wallMs = performance.now() - started;
  const after = rssOf(service.pid);
  peak = Math.max(peak, after.rss);
  const execution = response.json?.execution;
  if (response.status !== 200 || execution?.status !== 'success' || execution.result?.encrypted !== config.encrypt || execution.result?.destination !== config.destination) {
    throw new Error(
      `backup run (${config.label}) did not succeed: HTTP ${response.status}, status ${execution?.status}, error ${execution?.error ?? response.text.slice(0, 400)}; ` +
        `service log: ${service.lines.slice(-5).join(' | ')}`,
    );
  }
  return {
    wallMs,
    durationMs: execution.result.durationMs,
    bytes: execution.result.size,
    location: execution.result.location,
    rssBefore,
    rssPeak: peak,
    growth: peak - rssBefore,
    hwmGrowth: hwmReset ? after.hwm - rssBefore : NaN,
    samples,
    serviceCpuS: cpuSecondsOf(service.pid) - cpuBefore,
    machineCpuS: machineBusySeconds() - machineBefore,
    s3CpuS: config.s3Pid ? cpuSecondsOf(config.s3Pid) - s3Before : NaN,
    engineCpuS: config.enginePid ? cpuSecondsOf(config.enginePid, true) - engineBefore : NaN,
  };
}

/** The shell pipeline on the volume's directory, then (timed apart) fsync and a hash of the output. */
async function pipelineRun(mountpoint, outFile, recipient) {
  const stages = recipient ? `tar -C "$SRC" -cf - . | gzip | age -r "$RECIPIENT" > "$OUT"` : `tar -C "$SRC" -cf - . | gzip > "$OUT"`;
  // `times` prints the shell's own and its children's user/system CPU time.
  const script = `set -o pipefail; ${stages}; rc=$?; times >&2; exit $rc`;
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  const child = spawn('bash', ['-c', script], {
    env: { ...process.env, SRC: mountpoint, OUT: outFile, RECIPIENT: recipient ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  const wallMs = performance.now() - started;
  const machineCpuS = machineBusySeconds() - machineBefore;
  if (code !== 0) throw new Error(`pipeline exited with ${code}: ${stderr.slice(0, 500)}`);
  const times = stderr.trim().split('\n').slice(-1)[0].match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuS = times.map((t) => {
    const [, m, s] = /(\d+)m([\d.]+)s/.exec(t);
    return Number(m) * 60 + Number(s);
  });
  const bytes = statSync(outFile).size;
  let t = performance.now();
  command('sync', [outFile]);
  const syncMs = performance.now() - t;
  t = performance.now();
  command('sha256sum', [outFile]);
  const hashMs = performance.now() - t;
  rmSync(outFile, { force: true });
  return { wallMs, bytes, pipelineCpuS: cpuS.length === 2 ? cpuS[0] + cpuS[1] : NaN, machineCpuS, syncMs, hashMs };
}

async function deleteS3Object(endpoint, location) {
  const key = location.replace(`s3://${BUCKET}/`, '');
  const response = await fetch(`${endpoint}/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`, { method: 'DELETE' });
  if (!response.ok) notes.push(`could not delete ${location} from s3rver: HTTP ${response.status}`);
}

// ---------------------------------------------------------------- one volume size
async function measureSize(docker, sizeMiB, ctx) {
  const bytes = sizeMiB * MiB;
  const projectId = `bench-backup-${sizeMiB}m-${ctx.stamp}`;
  const data = await createProjectData(docker, projectId, bytes, ctx.work);

  const serviceDir = join(ctx.work, `service-${sizeMiB}m`);
  const localDir = join(serviceDir, 'local');
  mkdirSync(join(serviceDir, 'data'), { recursive: true });
  const service = await startService({
    DOCKER_HOST: ctx.dockerHost,
    DATA_DIR: join(serviceDir, 'data'),
    BACKUP_LOCAL_DIR: localDir,
    BACKUP_AGE_RECIPIENTS: ctx.recipient,
    ...(ctx.s3 && {
      S3_ENDPOINT: ctx.s3.endpoint,
      S3_BUCKET: BUCKET,
      S3_PREFIX: 'bench/',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: S3_SECRET,
    }),
  });
  const idleRss = rssOf(service.pid).rss;
  log(`${sizeLabel(sizeMiB)}: service pid ${service.pid} up, RSS ${mib(idleRss)} MiB (SQLite in ${serviceDir}/data)`);

  await expectStatus(service, 'POST', '/api/v1/projects', 201, { id: projectId, name: `Backup bench ${sizeLabel(sizeMiB)}` });
  const configs = [
    { key: 'pipe-plain', kind: 'pipeline', label: 'tar | gzip > file', encrypt: false },
    { key: 'pipe-age', kind: 'pipeline', label: 'tar | gzip | age > file', encrypt: true },
  ];
  for (const destination of settings.destinations) {
    for (const encrypt of [false, true]) {
      const created = await expectStatus(service, 'POST', '/api/v1/tasks', 201, {
        name: `bench ${destination}${encrypt ? ' encrypted' : ''}`,
        type: 'backup',
        projectId,
        cronExpression: '0 3 1 1 *', // not during the run: every run here is triggered through the API
        timeoutSeconds: 6 * 3600,
        backupConfig: { type: 'volumes', destination, encrypt },
      });
      configs.push({
        key: `${destination}-${encrypt ? 'age' : 'plain'}`,
        kind: 'service',
        label: `service → ${destination}${encrypt ? ', age' : ''}`,
        destination,
        encrypt,
        taskId: created.task.id,
        s3Pid: destination === 's3' ? ctx.s3.pid : undefined,
        enginePid: ctx.enginePid,
      });
    }
  }

  const runs = new Map(configs.map((c) => [c.key, []]));
  const pipeDir = join(ctx.work, 'pipeline');
  mkdirSync(pipeDir, { recursive: true });
  for (let round = 0; round < settings.rounds; round++) {
    // Rotated order: drift and the garbage a previous run left behind fall on every configuration alike.
    const order = configs.map((_, i) => configs[(i + round) % configs.length]);
    for (const config of order) {
      if (service.child.exitCode !== null || service.child.signalCode !== null) throw new Error(`the service exited: ${service.lines.join(' | ')}`);
      let result;
      if (config.kind === 'pipeline') {
        result = await pipelineRun(data.mountpoint, join(pipeDir, `out-${config.key}.tar.gz${config.encrypt ? '.age' : ''}`), config.encrypt ? ctx.recipient : null);
        log(
          `${sizeLabel(sizeMiB)} round ${round + 1}/${settings.rounds} ${config.label}: ${sec(result.wallMs, 2)} s, ${mib(result.bytes)} MiB, ` +
            `CPU ${result.pipelineCpuS.toFixed(1)} s (machine ${result.machineCpuS.toFixed(1)} s); then fsync ${sec(result.syncMs, 2)} s, sha256sum ${sec(result.hashMs, 2)} s`,
        );
      } else {
        result = await serviceRun(service, config.taskId, config);
        if (config.destination === 'local') rmSync(result.location, { force: true });
        else await deleteS3Object(ctx.s3.endpoint, result.location);
        log(
          `${sizeLabel(sizeMiB)} round ${round + 1}/${settings.rounds} ${config.label}: ${sec(result.wallMs, 2)} s (durationMs ${result.durationMs}), ${mib(result.bytes)} MiB, ` +
            `RSS ${mib(result.rssBefore)} -> peak ${mib(result.rssPeak)} MiB (+${mib(result.growth)}; HWM ${result.hwmGrowth < 0 ? '' : '+'}${mib(result.hwmGrowth)}; ${result.samples} samples), ` +
            `CPU service ${result.serviceCpuS.toFixed(1)} s${config.s3Pid ? `, s3rver ${result.s3CpuS.toFixed(1)} s` : ''}, engine ${result.engineCpuS.toFixed(1)} s, machine ${result.machineCpuS.toFixed(1)} s`,
        );
      }
      runs.get(config.key).push(result);
    }
  }
  const finalRss = rssOf(service.pid).rss;
  const serviceErrors = service.errors;
  const lastLines = service.lines.slice(-3);
  await service.stop();
  await data.remove();
  if (serviceErrors > 0) notes.push(`${sizeLabel(sizeMiB)}: ${serviceErrors} error log line(s) from the service, e.g. ${lastLines.join(' | ')}`);
  return { sizeMiB, bytes, inputBytes: data.inputBytes, sameFs: data.sameFs, idleRss, finalRss, configs, runs, mountpoint: data.mountpoint };
}

// ---------------------------------------------------------------- report
function summarise(result) {
  const rows = [];
  const med = (list, field) => median(list.map((r) => r[field]));
  for (const config of result.configs) {
    const list = result.runs.get(config.key);
    const row = {
      config,
      wallMs: med(list, 'wallMs'),
      runsS: list.map((r) => sec(r.wallMs, 1)).join(', '),
      bytes: med(list, 'bytes'),
      mibPerS: result.inputBytes / MiB / (med(list, 'wallMs') / 1000),
      machineCpuS: med(list, 'machineCpuS'),
    };
    if (config.kind === 'pipeline') {
      row.cpuS = med(list, 'pipelineCpuS');
      row.syncMs = med(list, 'syncMs');
      row.hashMs = med(list, 'hashMs');
    } else {
      row.durationMs = med(list, 'durationMs');
      row.cpuS = med(list, 'serviceCpuS');
      row.s3CpuS = config.s3Pid ? med(list, 's3CpuS') : NaN;
      row.engineCpuS = med(list, 'engineCpuS');
      row.growth = med(list, 'growth');
      row.maxGrowth = Math.max(...list.map((r) => r.growth));
      row.maxHwmGrowth = Math.max(...list.map((r) => r.hwmGrowth));
      row.maxPeak = Math.max(...list.map((r) => r.rssPeak));
      row.baseline = result.configs.find((c) => c.kind === 'pipeline' && c.encrypt === config.encrypt).key;
    }
    rows.push(row);
  }
  for (const row of rows) {
    if (row.config.kind !== 'service') continue;
    const base = rows.find((r) => r.config.key === row.baseline);
    row.ratio = base.wallMs / row.wallMs;
    row.durableRatio = (base.wallMs + base.syncMs + base.hashMs) / row.wallMs;
  }
  return rows;
}

function report(facts, results) {
  const lines = [
    `Date: ${facts.date}`,
    `Machine: ${facts.cpuModel}, ${facts.cpus} CPUs, ${facts.memoryGiB} GiB RAM, ${facts.os}; Node ${facts.node}`,
    `Engine: ${facts.engine}; ${facts.tools}`,
    `Service build: dist/ of ${facts.build} (backup path fingerprint ${facts.fingerprint}); SQLite (embedded) for the service's own records`,
    `Data: per size, one named volume with N bytes from /dev/urandom (incompressible) + ${SMALL_FILES} small files; backup type \`volumes\`; gzip level 6 on both sides`,
    `Load average (1 min): ${facts.loadStart} at the start, ${os.loadavg()[0].toFixed(2)} at the end; ${settings.rounds} rounds, rotated order, medians`,
    `Work dir ${facts.work} and volume mountpoints on the same filesystem: ${facts.sameFs ? 'yes' : 'NO'}`,
    '',
    '| Volume | What | wall s (median) | runs (s) | input MiB/s | durationMs (median) | stored MiB | CPU s: own (+ others) / machine | RSS growth MiB: median / max (HWM max) | pipeline ÷ service | + fsync + re-hash ÷ service |',
    '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const aims = [];
  for (const result of results) {
    const rows = summarise(result);
    result.rows = rows;
    for (const row of rows) {
      const c = row.config;
      const extra = [
        ...(row.engineCpuS === undefined || Number.isNaN(row.engineCpuS) ? [] : [`engine ${row.engineCpuS.toFixed(1)}`]),
        ...(row.s3CpuS === undefined || Number.isNaN(row.s3CpuS) ? [] : [`s3rver ${row.s3CpuS.toFixed(1)}`]),
      ];
      const cpu = `${row.cpuS.toFixed(1)}${extra.length ? ` (+ ${extra.join(', ')})` : ''} / ${row.machineCpuS.toFixed(1)}`;
      lines.push(
        c.kind === 'pipeline'
          ? `| ${sizeLabel(result.sizeMiB)} | \`${c.label.replaceAll('|', '\\|')}\` | ${sec(row.wallMs, 2)} | ${row.runsS} | ${row.mibPerS.toFixed(1)} | | ${mib(row.bytes)} | ${cpu} | | (fsync ${sec(row.syncMs, 2)} s, sha256sum ${sec(row.hashMs, 2)} s) | |`
          : `| ${sizeLabel(result.sizeMiB)} | ${c.label} | **${sec(row.wallMs, 2)}** | ${row.runsS} | ${row.mibPerS.toFixed(1)} | ${Math.round(row.durationMs)} | ${mib(row.bytes)} | ${cpu} | ${mib(row.growth)} / ${mib(row.maxGrowth)} (${mib(row.maxHwmGrowth)}) | **${row.ratio.toFixed(2)}** | ${row.durableRatio.toFixed(2)} |`,
      );
      if (c.kind === 'service') {
        aims.push({
          aim: `throughput ≥ 70 % of the pipeline: ${c.label}, ${sizeLabel(result.sizeMiB)}`,
          held: row.ratio >= AIMS.throughputRatio,
          value: `${row.ratio.toFixed(3)} (${sec(row.wallMs, 2)} s vs \`${result.configs.find((x) => x.key === row.baseline).label}\` ${sec(rows.find((r) => r.config.key === row.baseline).wallMs, 2)} s)`,
        });
      }
    }
  }
  lines.push(
    '',
    'wall = the run request (POST /tasks/:id/run answers when the run is over) / the pipeline process; input MiB/s = bytes in the volume ÷ wall;',
    'RSS growth = peak VmRSS of the service while the request was in flight (sampled every ' +
      `${settings.sampleMs} ms) − VmRSS just before it; HWM = VmHWM after the run − VmRSS before (VmHWM reset before each run);`,
    'CPU s: the service process (gzip runs on its thread pool, so it is counted) or the pipeline (`times`), the engine (Podman API',
    "process and the children it reaped) and s3rver apart; machine = all CPUs' busy time over the run.",
    'S3 runs are compared with the same pipeline writing to a file (s3rver on loopback, its CPU shown apart); the last column adds the',
    "pipeline's `sync FILE` and `sha256sum FILE` times (what the local store also does: fsync, then read back and compare).",
    '',
    '| Volume | service RSS idle at start (MiB) | highest peak in any run (MiB) | highest peak − idle (MiB) | after the last run (MiB) |',
    '|---|---:|---:|---:|---:|',
  );
  for (const result of results) {
    const maxPeak = Math.max(...result.rows.filter((r) => r.config.kind === 'service').map((r) => r.maxPeak));
    lines.push(`| ${sizeLabel(result.sizeMiB)} | ${mib(result.idleRss)} | ${mib(maxPeak)} | ${mib(maxPeak - result.idleRss)} | ${mib(result.finalRss)} |`);
  }
  const growthBySize = results.map((result) => {
    const rows = result.rows.filter((r) => r.config.kind === 'service');
    return { size: sizeLabel(result.sizeMiB), max: Math.max(...rows.map((r) => Math.max(r.maxGrowth, Number.isNaN(r.maxHwmGrowth) ? 0 : r.maxHwmGrowth))) };
  });
  aims.push({
    aim: 'peak RSS growth < 150 MB (143 MiB) in every run, whatever the volume size',
    held: growthBySize.every((g) => g.max < AIMS.rssGrowthBytes),
    value: growthBySize.map((g) => `${g.size}: max ${mib(g.max)} MiB`).join(', '),
  });
  lines.push('');
  for (const { aim, held, value } of aims) lines.push(`${held ? 'aim held:  ' : 'AIM MISSED:'} ${aim} — ${value}`);
  if (notes.length) lines.push('', 'Notes:', ...notes.map((n) => `- ${n}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------- main
async function main() {
  stampLogs();
  for (const tool of ['age', 'age-keygen', 'tar', 'gzip', 'sha256sum', 'sync']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (scripts/test-env.sh installs age)`);
  }
  for (let waited = 0; waited < settings.loadWaitS && os.loadavg()[0] > settings.maxLoad; waited += 15) {
    log(`load average ${os.loadavg()[0].toFixed(2)} > ${settings.maxLoad}: waiting 15 s`);
    await sleep(15_000);
  }
  const loadStart = os.loadavg()[0].toFixed(2);
  if (os.loadavg()[0] > settings.maxLoad) notes.push(`load average was ${loadStart} at the start (wanted < ${settings.maxLoad}): figures are pessimistic`);

  ensureBuilt();
  const buildMtime = statSync(MAIN).mtimeMs;
  const dockerHost = engineHost();
  const docker = new Docker({ socketPath: dockerHost.replace(/^unix:\/\//, '') });
  const engineVersion = await docker.version();

  const work = mkdtempSync(join(os.tmpdir(), 'bench-backup-'));
  owned(() => {
    rmSync(work, { recursive: true, force: true });
    log(`removed ${work}`);
  });
  if (settings.cpuProfDir) mkdirSync(settings.cpuProfDir, { recursive: true });
  const recipient = makeAgeKey(work);
  const s3 = settings.destinations.includes('s3') ? await startS3rver(join(work, 's3')) : null;
  const stamp = Date.now().toString(36);
  const enginePidFound = enginePid(dockerHost.replace(/^unix:\/\//, ''));
  if (enginePidFound === null) notes.push('the engine process was not found: its CPU time is not shown');
  const started = Date.now();

  const results = [];
  for (const sizeMiB of settings.sizesMiB) {
    results.push(await measureSize(docker, sizeMiB, { dockerHost, work, recipient, s3, stamp, enginePid: enginePidFound }));
    if (statSync(MAIN).mtimeMs !== buildMtime) notes.push(`dist/ was rebuilt during the run (after ${sizeLabel(sizeMiB)}): later sizes may have measured another build`);
  }
  const sameFs = results.every((r) => r.sameFs);
  const facts = {
    ...machineFacts(),
    engine: `${engineVersion.Components?.find((c) => /podman/i.test(c.Name))?.Name ?? 'engine'} ${engineVersion.Version} (Docker API ${engineVersion.ApiVersion}) on ${dockerHost}`,
    tools: [versionOf('tar'), versionOf('gzip'), `age ${versionOf('age', ['--version'])}`].join(', '),
    build: new Date(buildMtime).toISOString(),
    fingerprint: buildFingerprint(),
    loadStart,
    work,
    sameFs,
  };
  facts.date += ` (took ${Math.round((Date.now() - started) / 1000)} s)`;
  report(facts, results);
}

await run(main);
