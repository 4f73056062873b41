// Scheduler benchmark on PostgreSQL (`node bench/scheduler.mjs`).
//
// Three scenarios, each on a fresh PostgreSQL database (created here, dropped at the end, also
// on failure or Ctrl-C), with tasks bulk-inserted by `pg` (the API would take far too long for
// 100,000), all of type `container-update`, whose executor is still a placeholder that fails at
// once without touching Docker: every run is recorded as `failed`, which is expected here.
//
// 1. Registration: the built service (`dist/src/main.js`) is started against 0, 10,000 and
//    100,000 enabled tasks (a mix of hourly, daily, weekday, 6-hourly and monthly expressions in
//    five time zones, placed relative to now so that none fires during the measurement).
//    Measured: spawn -> the `Scheduler started on replica ...: <n> task(s) armed` log line,
//    spawn -> GET /health, and VmRSS 3 s after start. Registration = (line with N tasks) -
//    (/health with 0 tasks, the fixed start-up cost); memory per task = (RSS(N) - RSS(0)) / N.
//    Baselines, same run: the same N bare `CronJob`s (npm `cron`, same expressions and zones) and
//    N bare `setTimeout`s in a child process (time to create, RSS growth after `gc()`), and the
//    raw `pg` read of the N schedule rows.
// 2. Lateness, 1 replica: 10,000 tasks `M H * * *` UTC sharing one minute that starts at least
//    BENCH_MARGIN seconds after the service is expected to have armed them. Afterwards, from the
//    database: exactly one execution per task, and executedAt - slot (the run's actual start,
//    after the claim and any wait under MAX_CONCURRENT_RUNS) and finishedAt - slot: p50/p99/max.
//    Baseline, same run, a minute earlier with the service not yet started: 10,000 bare
//    `CronJob`s `M H * * *` UTC in one process, lateness of each callback. And, with the service
//    stopped, the raw-SQL floor of the same work: read, claim and close 10,000 runs through `pg`.
// 3. Lateness, 3 replicas (REPLICA_ID r1..r3) on one database: the same figures, the split of
//    runs across replicas (each replica's task_runs_total from /metrics), one execution per task.
//
// Everything listens on / connects to 127.0.0.1. Takes about 5 minutes, most of it waiting for minute boundaries.
// Env: BENCH_PG_URL (server to create databases on, default postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_SIZES (registration sizes, default 10000,100000), BENCH_REPEATS (runs per size below
// 100,000, default 3; 100,000 and above run once), BENCH_LATENESS_TASKS (10000), BENCH_REPLICAS (3),
// BENCH_MARGIN (s between expected start-up and the slot, default 45), BENCH_WAIT (s after the
// slot to wait for every run to finish, default 120), BENCH_SETTLE (ms before reading RSS, 3000),
// BENCH_MAX_LOAD (wait, up to 5 min, for the 1-min load average to drop below this; default 1.5),
// BENCH_PHASES (registration,lateness,replicas), BENCH_BUILD=1 (rebuild even if dist/ is fresh) or 0 (never
// build; measure dist/ as it is). By default a stale dist/ is rebuilt, and if that fails because src/ is
// mid-edit, the existing build is measured, with a note.
import { fork, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  MAIN,
  ROOT,
  createDatabase,
  log,
  machineFacts,
  median,
  nestBuild,
  owned,
  positive,
  positiveInt,
  rebuildReason,
  run,
  serverVersion,
  spawnService,
  srcIsNewer,
  stampLogs,
  stopChild,
} from './support.mjs';

const SELF = fileURLToPath(import.meta.url);
const ORMCONFIG = join(ROOT, 'dist', 'ormconfig.js');
const MINUTE = 60_000;
const TASK_CONFIG = JSON.stringify({ pullImages: true, restartAfterUpdate: true });
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata'];
const AIMS = { registrationMs: 30_000, registrationTasks: 100_000, p99LatenessMs: 2_000 };

if (process.argv[2] === '--child') {
  await childMain(process.argv[3]);
} else {
  await parentMain();
}

// ================================================================= child processes (baselines)
// Forked with --expose-gc; gets its work over IPC, answers with one message, then waits to be killed.
async function childMain(mode) {
  const { CronJob, CronTime } = await import('cron');
  const job = await new Promise((resolve) => process.once('message', resolve));
  const gc = () => {
    for (let i = 0; i < 3; i++) global.gc();
  };
  const noop = () => {};
  if (mode === 'register-cron' || mode === 'register-timers') {
    const specs = job.combos;
    // Next fire instants for the timers baseline, computed once per combination (not timed).
    const delays = mode === 'register-timers' ? specs.map((s) => new CronTime(s.expr, s.tz).getTimeout()) : null;
    const keep = new Array(job.count);
    gc();
    const before = process.memoryUsage();
    const started = performance.now();
    for (let i = 0; i < job.count; i++) {
      const k = i % specs.length;
      keep[i] =
        mode === 'register-cron'
          ? CronJob.from({ cronTime: specs[k].expr, onTick: noop, start: true, timeZone: specs[k].tz })
          : setTimeout(noop, delays[k]);
    }
    const elapsedMs = performance.now() - started;
    gc();
    const after = process.memoryUsage();
    process.send({ elapsedMs, rssBytes: after.rss - before.rss, heapBytes: after.heapUsed - before.heapUsed, kept: keep.length });
  } else if (mode === 'lateness-cron') {
    const late = new Float64Array(job.count);
    let fired = 0;
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const expr = `${new Date(job.slotMs).getUTCMinutes()} ${new Date(job.slotMs).getUTCHours()} * * *`;
    const onTick = () => {
      late[fired++] = Date.now() - job.slotMs;
      if (fired === job.count) done();
    };
    const jobs = [];
    for (let i = 0; i < job.count; i++) jobs.push(CronJob.from({ cronTime: expr, onTick, start: true, timeZone: 'UTC' }));
    process.send({ armed: true, expr });
    await Promise.race([finished, sleep(job.slotMs + 30_000 - Date.now())]);
    process.send({ lateness: Array.from(late.subarray(0, fired)), fired });
  } else {
    throw new Error(`unknown child mode ${mode}`);
  }
  await new Promise(() => {}); // killed by the parent
}

// ================================================================= parent
async function parentMain() {
  const { default: pg } = await import('pg');
  stampLogs();

  const settings = {
    sizes: (process.env.BENCH_SIZES ?? '10000,100000').split(',').map((s) => positive('BENCH_SIZES', s.trim())),
    repeats: positiveInt('BENCH_REPEATS', 3),
    latenessTasks: positiveInt('BENCH_LATENESS_TASKS', 10_000),
    replicas: positiveInt('BENCH_REPLICAS', 3),
    marginMs: positiveInt('BENCH_MARGIN', 45) * 1000,
    waitMs: positiveInt('BENCH_WAIT', 120) * 1000,
    settleMs: positiveInt('BENCH_SETTLE', 3000),
    maxLoad: Number(process.env.BENCH_MAX_LOAD ?? 1.5),
    phases: new Set((process.env.BENCH_PHASES ?? 'registration,lateness,replicas').split(',').map((s) => s.trim())),
  };
  settings.sizes.sort((a, b) => a - b);
  const repeatsFor = (n) => (n >= 100_000 ? 1 : settings.repeats);

  const notes = []; // warnings that belong in the printed report

  // -------------------------------------------------------------- build
  /** dist/ may be mid-rebuild (someone else's `nest build`): wait for it rather than race it. */
  async function waitForBuild(maxMs = 60_000) {
    const deadline = Date.now() + maxMs;
    while (!(existsSync(MAIN) && existsSync(ORMCONFIG))) {
      if (Date.now() > deadline) return false;
      await sleep(2000);
    }
    return true;
  }

  async function ensureBuilt() {
    const present = await waitForBuild(existsSync(MAIN) ? 0 : 30_000);
    if (process.env.BENCH_BUILD === '0') {
      if (!present) throw new Error('dist/src/main.js is missing and BENCH_BUILD=0');
      if (srcIsNewer()) notes.push('src/ is newer than dist/ (BENCH_BUILD=0): measured the existing build');
      return statSync(MAIN).mtimeMs;
    }
    const reason = rebuildReason(present);
    if (reason && !nestBuild(reason)) {
      // src/ may be mid-edit: measure the build that is there (someone else's, once it is back).
      if (!(await waitForBuild())) throw new Error('nest build failed and there is no dist/src/main.js');
      notes.push(`nest build failed (${reason}); measured the existing build instead`);
    }
    return statSync(MAIN).mtimeMs;
  }

  /** Which scheduler code was measured: a short hash of the built firing path. */
  function buildFingerprint() {
    const hash = createHash('sha256');
    for (const file of ['scheduler.service.js', 'runs.service.js']) {
      const path = join(ROOT, 'dist', 'src', 'scheduler', file);
      if (existsSync(path)) hash.update(readFileSync(path));
    }
    for (const file of ['tasks.repository.js', 'executions.repository.js']) {
      const path = join(ROOT, 'dist', 'src', 'tasks', file);
      if (existsSync(path)) hash.update(readFileSync(path));
    }
    return hash.digest('hex').slice(0, 12);
  }

  let buildMtime = 0;
  /** Before each spawn: dist/ must exist, and a rebuild during the run is reported. */
  async function checkBuild() {
    if (!(await waitForBuild())) throw new Error('dist/src/main.js disappeared and did not come back within 60 s');
    const mtime = statSync(MAIN).mtimeMs;
    if (mtime !== buildMtime) {
      notes.push(`dist/ was rebuilt during the run (main.js ${new Date(mtime).toISOString()}, firing path ${buildFingerprint()}); later scenarios measured that build`);
      buildMtime = mtime;
    }
  }

  // -------------------------------------------------------------- database
  /** A fresh database, migrated, with the `bench` project and an open client on it. */
  async function prepareDatabase(label) {
    const { name, url, drop } = await createDatabase('bench_sched', label);
    await migrate(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const closeClient = owned(() => client.end());
    await client.query(`INSERT INTO "projects" ("id", "name") VALUES ('bench', 'Bench')`);
    const [{ pid }] = (await client.query('SELECT pg_backend_pid() AS pid')).rows;
    return {
      name,
      url,
      client,
      clientPid: pid,
      done: async () => {
        await closeClient();
        await drop();
      },
    };
  }

  /** The service's own migrations, through the built DataSource (as `npm run typeorm` would). */
  async function migrate(url) {
    await checkBuild();
    const code =
      "const ds = require('./dist/ormconfig.js').default;" +
      'ds.initialize().then(() => ds.runMigrations()).then(() => ds.destroy()).catch((e) => { console.error(e); process.exit(1); });';
    const result = spawnSync(process.execPath, ['-e', code], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`migrations failed: ${result.stderr || result.stdout}`);
  }

  /** Multi-row INSERTs of 1,000 tasks; returns the elapsed ms. */
  async function insertTasks(client, specs, scheduledFrom) {
    const started = performance.now();
    const batch = 1000;
    for (let offset = 0; offset < specs.length; offset += batch) {
      const rows = specs.slice(offset, offset + batch);
      const params = [];
      const values = rows.map((spec, j) => {
        const b = j * 5;
        params.push(`task-${randomBytes(8).toString('hex')}`, spec.name, spec.expr, spec.tz, scheduledFrom);
        return `($${b + 1}, $${b + 2}, 'container-update', true, 'bench', $${b + 3}, $${b + 4}, '${TASK_CONFIG}', $${b + 5}, 1)`;
      });
      await client.query(
        `INSERT INTO "tasks" ("id", "name", "type", "enabled", "projectId", "cronExpression", "timezone", "config", "scheduledFrom", "revision")
         VALUES ${values.join(', ')}`,
        params,
      );
    }
    return performance.now() - started;
  }

  // -------------------------------------------------------------- service
  /** Starts dist/src/main.js; `armed` and `healthy` resolve with ms since spawn. */
  async function startService(databaseUrl, replicaId) {
    await checkBuild();
    const { child, base, apiKey, spawnedAt, stop } = await spawnService(databaseUrl, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { REPLICA_ID: replicaId, LOG_LEVEL: 'log', METRICS_ACCESS: 'key' },
      graceMs: 10_000,
    });
    const service = {
      child,
      pid: child.pid,
      replicaId,
      base,
      apiKey,
      spawnedAt,
      stop,
      logs: { error: 0, warn: 0, other: 0, samples: [] },
    };
    let onArmed;
    service.armed = new Promise((resolve) => (onArmed = resolve));
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    service.exited = exited;

    const onLine = (line) => {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = { level: 'raw', message: line };
      }
      const message = typeof entry.message === 'string' ? entry.message : JSON.stringify(entry.message);
      const started = /Scheduler started on replica (\S+): (\d+) task/.exec(message ?? '');
      if (started) onArmed({ ms: performance.now() - spawnedAt, wallMs: Date.now(), count: Number(started[2]) });
      const level = entry.level === 'error' || entry.level === 'fatal' ? 'error' : entry.level === 'warn' ? 'warn' : 'other';
      service.logs[level] += 1;
      if (level !== 'other' && service.logs.samples.length < 5) service.logs.samples.push(`${entry.level}: ${String(message).slice(0, 300)}`);
      if (entry.level === 'raw' && service.logs.samples.length < 5 && line.trim()) service.logs.samples.push(`raw: ${line.slice(0, 300)}`);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);

    service.healthy = (async () => {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`service ${replicaId} exited during start-up: ${service.logs.samples.join(' | ')}`);
        try {
          if ((await fetch(`${service.base}/health`)).ok) return performance.now() - spawnedAt;
        } catch {
          // not listening yet
        }
        await sleep(25);
      }
    })();
    service.healthy.catch(() => {});
    return service;
  }

  async function waitStarted(service, timeoutMs) {
    const timeout = sleep(timeoutMs).then(() => {
      throw new Error(`service ${service.replicaId} was not up within ${timeoutMs / 1000} s`);
    });
    const exit = service.exited.then(({ code, signal }) => {
      throw new Error(`service ${service.replicaId} exited (${code ?? signal}) during start-up: ${service.logs.samples.join(' | ')}`);
    });
    const [armed, healthMs] = await Promise.race([Promise.all([service.armed, service.healthy]), timeout, exit]);
    return { armed, healthMs };
  }

  function rssBytes(pid) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  }

  const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  /** user+system CPU seconds of a process, or null if it is gone. */
  function cpuSeconds(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    } catch {
      return null;
    }
  }

  /** PostgreSQL backends serving a database (their command line names it), except `exceptPid`. */
  function backendPids(database, exceptPid) {
    const pids = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === exceptPid) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (cmdline.startsWith('postgres: ') && cmdline.includes(` ${database} `)) pids.push(Number(entry));
      } catch {
        // gone
      }
    }
    return pids;
  }

  async function metricsOf(service) {
    try {
      const response = await fetch(`${service.base}/metrics`, { headers: { authorization: `Bearer ${service.apiKey}` } });
      if (!response.ok) return null;
      const text = await response.text();
      let runs = 0;
      for (const match of text.matchAll(/^task_runs_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm)) runs += Number(match[1]);
      return { runs };
    } catch {
      return null;
    }
  }

  // -------------------------------------------------------------- baselines in child processes
  async function runChild(mode, job, { onMessage } = {}) {
    const child = fork(SELF, ['--child', mode], { execArgv: ['--expose-gc', '--max-old-space-size=4096'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const stop = owned(() => stopChild(child));
    const exited = new Promise((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`baseline child ${mode} exited (${code ?? signal})`))),
    );
    exited.catch(() => {});
    child.send(job);
    const result = await Promise.race([
      new Promise((resolve) => {
        child.on('message', (message) => {
          if (onMessage?.(message)) return;
          resolve(message);
        });
      }),
      exited,
    ]);
    await stop();
    return result;
  }

  // -------------------------------------------------------------- statistics
  /** Nearest rank. */
  const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  const summary = (values) => {
    const sorted = Float64Array.from(values).sort();
    return sorted.length === 0
      ? null
      : { n: sorted.length, min: sorted[0], p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
  };
  const sec = (ms, digits = 2) => (ms === null || ms === undefined || Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(digits));
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
  const triple = (s) => (s ? `${sec(s.p50)} / ${sec(s.p99)} / ${sec(s.max)}` : 'n/a');

  // -------------------------------------------------------------- task mixes
  /** Local hour and minute of `date` in `timeZone`. */
  function localTime(date, timeZone) {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(date);
    return { h: Number(parts.find((p) => p.type === 'hour').value), m: Number(parts.find((p) => p.type === 'minute').value) };
  }

  /**
   * 5 shapes x 5 zones, placed relative to `now` in each zone's wall clock so the earliest of them
   * fires about 25 minutes later: registration is measured without any run going on.
   */
  function registrationCombos(now) {
    const combos = [];
    for (const tz of ZONES) {
      const { h, m } = localTime(now, tz);
      const M = (m + 25) % 60;
      const H = (h + 12) % 24;
      combos.push(
        { expr: `${M} * * * *`, tz }, // hourly
        { expr: `${M} ${H} * * *`, tz }, // daily
        { expr: `${M} ${H} * * 1-5`, tz }, // weekdays
        { expr: `${M} ${(h + 3) % 6}-23/6 * * *`, tz }, // every 6 hours
        { expr: `${M} ${H} 1 * *`, tz }, // monthly
      );
    }
    return combos;
  }

  const specsFor = (combos, from, to, prefix) =>
    Array.from({ length: to - from }, (_, j) => {
      const i = from + j;
      return { ...combos[i % combos.length], name: `${prefix}-${String(i).padStart(6, '0')}` };
    });

  // -------------------------------------------------------------- scenario 1: registration
  async function registration() {
    const db = await prepareDatabase('registration');
    const results = { fixed: [], sizes: [] };
    const startOnce = async (label, expected) => {
      const service = await startService(db.url, 'r1');
      const { armed, healthMs } = await waitStarted(service, 300_000);
      if (armed.count !== expected) notes.push(`${label}: the service armed ${armed.count} tasks, expected ${expected}`);
      await sleep(settings.settleMs);
      const rss = rssBytes(service.pid);
      const logs = service.logs;
      await service.stop();
      log(`${label}: spawn->armed ${sec(armed.ms)} s, spawn->/health ${sec(healthMs)} s, RSS ${mib(rss)} MiB, ${logs.error} error line(s)`);
      if (logs.error > 0) notes.push(`${label}: ${logs.error} error log line(s), e.g. ${logs.samples[0]}`);
      return { armedMs: armed.ms, healthMs, rss };
    };

    for (let r = 1; r <= settings.repeats; r++) results.fixed.push(await startOnce(`0 tasks, run ${r}`, 0));

    const combos = registrationCombos(new Date());
    let inserted = 0;
    for (const n of settings.sizes) {
      const insertMs = await insertTasks(db.client, specsFor(combos, inserted, n, 'reg'), new Date());
      log(`inserted ${n - inserted} tasks in ${sec(insertMs)} s (now ${n})`);
      inserted = n;
      await db.client.query('VACUUM ANALYZE "tasks"');
      const entry = { n, insertPerTaskMs: insertMs / n, service: [], pgRead: [], cron: [], timers: [] };
      for (let r = 1; r <= repeatsFor(n); r++) {
        entry.service.push(await startOnce(`${n} tasks, run ${r}`, n));
        const readStarted = performance.now();
        const { rowCount } = await db.client.query(
          `SELECT "id", "cronExpression", "timezone", "revision", "scheduledFrom", "nextRun" FROM "tasks" WHERE "enabled" = true`,
        );
        entry.pgRead.push(performance.now() - readStarted);
        if (rowCount !== n) throw new Error(`read ${rowCount} schedule rows, expected ${n}`);
        entry.cron.push(await runChild('register-cron', { combos, count: n }));
        entry.timers.push(await runChild('register-timers', { combos, count: n }));
        log(`baselines ${n}: cron ${sec(entry.cron.at(-1).elapsedMs)} s, timers ${sec(entry.timers.at(-1).elapsedMs, 3)} s, pg read ${sec(entry.pgRead.at(-1), 3)} s`);
      }
      results.sizes.push(entry);
    }
    await db.done();
    return { ...results, combos };
  }

  // -------------------------------------------------------------- scenarios 2 and 3: lateness
  async function cronLatenessBaseline(count) {
    // The next minute at least 15 s away; the service is not running yet.
    const slotMs = Math.ceil((Date.now() + 15_000) / MINUTE) * MINUTE;
    log(`baseline: ${count} bare CronJobs for ${new Date(slotMs).toISOString()}`);
    const result = await runChild('lateness-cron', { count, slotMs }, { onMessage: (m) => Boolean(m.armed) });
    log(`baseline fired ${result.fired}/${count}`);
    return { slotMs, fired: result.fired, start: summary(result.lateness) };
  }

  /**
   * The database's share of the firing path, with the service stopped: the same 10,000 tasks read,
   * claimed and closed in raw SQL through `pg` (a slot a day later): reads and claims in chunks of
   * 500 on one connection, then per run the two single-row UPDATEs (execution closed, task's last
   * run) on a pool of 10 connections, as the service's pool has.
   */
  async function claimFloor(db, slot) {
    const chunk = 500;
    const floorSlot = new Date(slot.getTime() + 86_400_000);
    const ids = (await db.client.query('SELECT "id" FROM "tasks" ORDER BY "id"')).rows.map((r) => r.id);
    const started = performance.now();
    for (let i = 0; i < ids.length; i += chunk) {
      await db.client.query('SELECT * FROM "tasks" WHERE "id" = ANY($1)', [ids.slice(i, i + chunk)]);
    }
    const readMs = performance.now() - started;
    const executionIds = [];
    for (let i = 0; i < ids.length; i += chunk) {
      const now = new Date();
      const lease = new Date(now.getTime() + 30_000);
      const params = [];
      const tuples = ids.slice(i, i + chunk).map((taskId, j) => {
        const id = `exec-${randomBytes(8).toString('hex')}`;
        executionIds.push([id, taskId]);
        params.push(id, taskId);
        return `($${2 * j + 1}, $${2 * j + 2})`;
      });
      // Slot, time and lease are the same for the whole chunk: passed once.
      const p = params.length;
      const { rowCount } = await db.client.query(
        `INSERT INTO "executions" ("id", "taskId", "trigger", "scheduledFor", "executedAt", "status", "replicaId", "leaseExpiresAt", "cancelRequested")
         SELECT v.id, v.task, 'schedule', $${p + 1}::timestamptz, $${p + 2}::timestamptz, 'running', 'floor', $${p + 3}::timestamptz, false
         FROM (VALUES ${tuples.join(', ')}) AS v(id, task)
         ON CONFLICT DO NOTHING RETURNING "id"`,
        [...params, floorSlot, now, lease],
      );
      if (rowCount !== tuples.length) throw new Error(`floor: claimed ${rowCount} of ${tuples.length}`);
    }
    const claimMs = performance.now() - started - readMs;
    const pool = new pg.Pool({ connectionString: db.url, max: 10 });
    try {
      const closeStarted = performance.now();
      await Promise.all(
        executionIds.map(async ([id, taskId]) => {
          const now = new Date();
          await pool.query(
            `UPDATE "executions" SET "status" = 'failed', "executedAt" = $2, "finishedAt" = $2, "duration" = 0, "error" = 'floor',
             "replicaId" = NULL, "leaseExpiresAt" = NULL WHERE "id" = $1 AND "status" = 'running'`,
            [id, now],
          );
          await pool.query(`UPDATE "tasks" SET "lastRun" = $2, "lastStatus" = 'failed' WHERE "id" = $1`, [taskId, now]);
        }),
      );
      const closeMs = performance.now() - closeStarted;
      log(`raw SQL floor: read ${sec(readMs, 3)} s, claim ${sec(claimMs, 3)} s, close ${sec(closeMs, 3)} s`);
      return { readMs, claimMs, closeMs };
    } finally {
      await pool.end();
    }
  }

  async function lateness(replicaCount, startupEstimateMs, insertEstimateMs) {
    const n = settings.latenessTasks;
    const db = await prepareDatabase(`lateness, ${replicaCount} replica(s)`);
    const result = { replicaCount, n };
    if (replicaCount === 1) result.baseline = await cronLatenessBaseline(n);

    // Replicas start together and share 2 CPUs here: allow for that in the estimate.
    const expectedUpMs = insertEstimateMs + startupEstimateMs * (replicaCount === 1 ? 1 : 1 + replicaCount / 2);
    const slotMs = Math.ceil((Date.now() + expectedUpMs + settings.marginMs) / MINUTE) * MINUTE;
    const slot = new Date(slotMs);
    const expr = `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`;
    const combos = [{ expr, tz: 'UTC' }];
    result.slot = slot.toISOString();
    result.expr = expr;
    await insertTasks(db.client, specsFor(combos, 0, n, 'late'), new Date());
    await db.client.query('VACUUM ANALYZE "tasks"');
    log(`${n} tasks '${expr}' UTC (slot ${slot.toISOString()}); starting ${replicaCount} replica(s)`);

    const services = [];
    for (let r = 1; r <= replicaCount; r++) services.push(await startService(db.url, `r${r}`));
    const started = await Promise.all(services.map((s) => waitStarted(s, Math.max(10_000, slotMs - Date.now()))));
    result.armedBeforeSlotMs = Math.min(...started.map((s) => slotMs - s.armed.wallMs));
    log(`all replicas armed ${sec(result.armedBeforeSlotMs, 1)} s before the slot`);
    if (result.armedBeforeSlotMs < settings.marginMs / 3) {
      notes.push(`${replicaCount} replica(s): armed only ${sec(result.armedBeforeSlotMs, 1)} s before the slot (aimed at >= ${settings.marginMs / 1000} s)`);
    }
    if (result.armedBeforeSlotMs <= 0) throw new Error(`${replicaCount} replica(s): the service was not up in time for the slot`);

    // Idle until just before the slot, then poll progress and CPU use until every run is closed.
    await sleep(slotMs - Date.now() - 1500);
    const cpu = new Map(); // pid -> { first, last, kind }
    const sampleCpu = () => {
      const pids = [
        ...services.map((s) => [s.pid, 'service']),
        ...backendPids(db.name, db.clientPid).map((pid) => [pid, 'postgres']),
      ];
      for (const [pid, kind] of pids) {
        const value = cpuSeconds(pid);
        if (value === null) continue;
        const known = cpu.get(pid);
        if (known) known.last = value;
        else cpu.set(pid, { first: value, last: value, kind, seenAt: Date.now() });
      }
    };
    sampleCpu();
    // Backends that first appear after the slot started from (almost) nothing: count all their CPU.
    for (const entry of cpu.values()) entry.baseline = true;
    const progress = [];
    const maxRunning = new Map();
    const deadline = slotMs + settings.waitMs;
    for (;;) {
      await sleep(500);
      const [counts] = (
        await db.client.query(
          `SELECT count(*)::int AS claimed, count("finishedAt")::int AS finished FROM "executions" WHERE "scheduledFor" = $1`,
          [slot],
        )
      ).rows;
      for (const row of (
        await db.client.query(
          `SELECT "replicaId", count(*)::int AS n FROM "executions" WHERE "scheduledFor" = $1 AND "status" = 'running' GROUP BY 1`,
          [slot],
        )
      ).rows) {
        maxRunning.set(row.replicaId, Math.max(maxRunning.get(row.replicaId) ?? 0, row.n));
      }
      sampleCpu();
      progress.push({ atMs: Date.now() - slotMs, ...counts });
      if (counts.finished >= n || Date.now() > deadline) break;
    }
    const last = progress.at(-1);
    result.complete = last.finished >= n;
    result.waitedMs = last.atMs;
    const firstAt = (key, share) => progress.find((p) => p[key] >= share * n)?.atMs ?? null;
    result.progress = {
      claimed50: firstAt('claimed', 0.5),
      claimedAll: firstAt('claimed', 1),
      finishedAll: firstAt('finished', 1),
    };
    result.maxRunning = Object.fromEntries(maxRunning);
    const cpuOf = (kind) => [...cpu.values()].filter((e) => e.kind === kind).reduce((sum, e) => sum + (e.last - (e.baseline ? e.first : 0)), 0);
    result.cpu = { serviceS: cpuOf('service'), postgresS: cpuOf('postgres'), wallS: last.atMs / 1000 + 1.5 };

    // The record: one execution per task, and when each run started and finished.
    const rows = (
      await db.client.query(
        `SELECT "taskId", "executedAt", "finishedAt", "status" FROM "executions" WHERE "scheduledFor" = $1`,
        [slot],
      )
    ).rows;
    const [{ total, tasks: taskCount }] = (
      await db.client.query(`SELECT count(*)::int AS total, count(DISTINCT "taskId")::int AS tasks FROM "executions"`)
    ).rows;
    result.executions = rows.length;
    result.distinctTasks = new Set(rows.map((r) => r.taskId)).size;
    result.allExecutions = total;
    result.allExecutionTasks = taskCount;
    result.statuses = {};
    for (const row of rows) result.statuses[row.status] = (result.statuses[row.status] ?? 0) + 1;
    result.start = summary(rows.map((r) => r.executedAt.getTime() - slotMs));
    result.finish = summary(rows.filter((r) => r.finishedAt).map((r) => r.finishedAt.getTime() - slotMs));
    result.exactlyOnce = result.executions === n && result.distinctTasks === n && total === n;

    // A run's counter moves after its record is written: let the last ones land (up to 5 s).
    const scrape = () => Promise.all(services.map((service) => metricsOf(service)));
    let metrics = await scrape();
    for (let i = 0; i < 20 && metrics.reduce((sum, m) => sum + (m?.runs ?? 0), 0) < n && metrics.every(Boolean); i++) {
      await sleep(250);
      metrics = await scrape();
    }
    result.replicas = [];
    for (const [index, service] of services.entries()) {
      const scraped = metrics[index];
      result.replicas.push({ id: service.replicaId, runs: scraped?.runs ?? null, errors: service.logs.error, warns: service.logs.warn, samples: service.logs.samples });
      if (service.logs.error > 0) notes.push(`${replicaCount} replica(s), ${service.replicaId}: ${service.logs.error} error log line(s), e.g. ${service.logs.samples[0]}`);
    }
    for (const service of services) await service.stop();
    if (replicaCount === 1) result.floor = await claimFloor(db, slot);
    await db.done();
    log(
      `${replicaCount} replica(s): ${result.executions} executions for ${result.distinctTasks} tasks, start ${triple(result.start)} s, ` +
        `finish ${triple(result.finish)} s, claims all in by +${sec(result.progress.claimedAll, 1)} s`,
    );
    return result;
  }

  // -------------------------------------------------------------- report
  function report(facts, reg, late1, late3) {
    const lines = [
      `Date: ${facts.date}`,
      `Machine: ${facts.cpuModel}, ${facts.cpus} CPUs, ${facts.memoryGiB} GiB RAM, ${facts.os}`,
      `Node ${facts.node}, PostgreSQL ${facts.postgres}, cron ${facts.cron}; service build dist/src/main.js of ${facts.build}`,
      `Load average (1 min) at start ${facts.loadStart}, at end ${os.loadavg()[0].toFixed(2)}`,
      'Tasks are container-update with the placeholder executor: every run fails at once and is recorded as `failed` (expected).',
      '',
    ];
    const aims = [];
    if (reg) {
      const fixedHealth = median(reg.fixed.map((f) => f.healthMs));
      const fixedArmed = median(reg.fixed.map((f) => f.armedMs));
      const fixedRss = median(reg.fixed.map((f) => f.rss));
      lines.push(
        `Registration (medians of ${settings.repeats} runs below 100,000 tasks, 1 run at 100,000; RSS read ${settings.settleMs / 1000} s after start)`,
        `Mix: 5 shapes x 5 zones, e.g. ${reg.combos.slice(0, 5).map((c) => `\`${c.expr}\``).join(', ')} in ${ZONES.join(', ')}`,
        '',
        '| Scenario | Tasks | spawn -> "Scheduler started" (s) | spawn -> /health (s) | registration (s) | per task (µs) | RSS (MiB) | RSS per task (bytes) | runs |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---|',
        `| service, no tasks (fixed cost) | 0 | ${sec(fixedArmed)} | ${sec(fixedHealth)} | | | ${mib(fixedRss)} | | ${reg.fixed.map((f) => sec(f.armedMs)).join(', ')} |`,
      );
      for (const size of reg.sizes) {
        const armed = median(size.service.map((s) => s.armedMs));
        const health = median(size.service.map((s) => s.healthMs));
        const rss = median(size.service.map((s) => s.rss));
        const registrationMs = armed - fixedHealth;
        size.registrationMs = registrationMs;
        lines.push(
          `| service (pg read + arm) | ${size.n} | ${sec(armed)} | ${sec(health)} | **${sec(registrationMs)}** | ${((registrationMs * 1000) / size.n).toFixed(1)} | ${mib(rss)} | ${Math.round((rss - fixedRss) / size.n)} | ${size.service.map((s) => sec(s.armedMs)).join(', ')} |`,
        );
      }
      for (const size of reg.sizes) {
        const cronMs = median(size.cron.map((c) => c.elapsedMs));
        const timersMs = median(size.timers.map((c) => c.elapsedMs));
        const pgMs = median(size.pgRead);
        lines.push(
          `| baseline: raw \`pg\` read of the schedule rows | ${size.n} | | | ${sec(pgMs, 3)} | ${((pgMs * 1000) / size.n).toFixed(1)} | | | ${size.pgRead.map((v) => sec(v, 3)).join(', ')} |`,
          `| baseline: bare \`CronJob\`s (cron ${facts.cron}) | ${size.n} | | | ${sec(cronMs, 3)} | ${((cronMs * 1000) / size.n).toFixed(1)} | | ${Math.round(median(size.cron.map((c) => c.rssBytes)) / size.n)} (heap ${Math.round(median(size.cron.map((c) => c.heapBytes)) / size.n)}) | ${size.cron.map((c) => sec(c.elapsedMs, 3)).join(', ')} |`,
          `| baseline: bare \`setTimeout\`s | ${size.n} | | | ${sec(timersMs, 3)} | ${((timersMs * 1000) / size.n).toFixed(2)} | | ${Math.round(median(size.timers.map((c) => c.rssBytes)) / size.n)} (heap ${Math.round(median(size.timers.map((c) => c.heapBytes)) / size.n)}) | ${size.timers.map((c) => sec(c.elapsedMs, 3)).join(', ')} |`,
        );
      }
      lines.push(
        '',
        'registration = spawn -> "Scheduler started" with N tasks minus spawn -> /health with none; RSS per task = (RSS(N) - RSS(0)) / N',
        '(service RSS is not garbage-collected first; the baselines are, after global.gc()).',
        '',
      );
      const big = reg.sizes.find((s) => s.n === AIMS.registrationTasks);
      aims.push([
        `registration of 100,000 tasks < 30 s`,
        big ? big.registrationMs < AIMS.registrationMs : null,
        big ? `${sec(big.registrationMs)} s` : 'not measured',
      ]);
    }
    const latenessRows = [];
    if (late1?.baseline) {
      const b = late1.baseline;
      latenessRows.push(`| bare \`CronJob\`s, one process (baseline; callback - slot) | ${b.fired} / ${late1.n} callbacks | ${triple(b.start)} | | | |`);
    }
    for (const l of [late1, late3].filter(Boolean)) {
      latenessRows.push(
        `| service, ${l.replicaCount} replica${l.replicaCount > 1 ? 's' : ''} | ${l.executions} / ${l.n}${l.exactlyOnce ? '' : ' **CHECK FAILED**'} | ${triple(l.start)} | ${triple(l.finish)} | +${sec(l.progress.claimed50, 1)} / +${sec(l.progress.claimedAll, 1)} / +${sec(l.progress.finishedAll, 1)} | ${sec(l.cpu.serviceS * 1000, 1)} / ${sec(l.cpu.postgresS * 1000, 1)} / ${sec(l.cpu.wallS * 1000, 1)} |`,
      );
    }
    if (late1?.floor) {
      const f = late1.floor;
      latenessRows.push(
        `| raw SQL floor (\`pg\`, service stopped): read + claim / + close | ${late1.n} | ${sec(f.readMs + f.claimMs)} (read ${sec(f.readMs)}, claim ${sec(f.claimMs)}) | ${sec(f.readMs + f.claimMs + f.closeMs)} (close ${sec(f.closeMs)}) | | |`,
      );
    }
    if (latenessRows.length) {
      lines.push(
        `Lateness: ${settings.latenessTasks} tasks sharing one minute (\`M H * * *\` UTC), MAX_CONCURRENT_RUNS default`,
        '',
        '| Scenario | executions / tasks | start - slot p50 / p99 / max (s) | finish - slot p50 / p99 / max (s) | 50 % claimed / all claimed / all records closed (s after slot) | CPU s: service(s) / PostgreSQL / wall |',
        '|---|---:|---:|---:|---:|---:|',
        ...latenessRows,
        '',
        'start = executedAt (when the run really started, after the claim and any wait under MAX_CONCURRENT_RUNS); finish = finishedAt',
        '(stamped by the service before it writes the outcome); "all records closed" = first poll that saw finishedAt on every execution.',
        'Progress polled every 0.5 s (so +/- 0.5 s); CPU = user+system of the service process(es) and of this database\'s PostgreSQL backends from 1.5 s before the slot until every run was closed.',
      );
      for (const l of [late1, late3].filter(Boolean)) {
        lines.push(
          `${l.replicaCount} replica(s): slot ${l.slot}, armed ${sec(l.armedBeforeSlotMs, 1)} s before it; first run started +${sec(l.start?.min)} s, first finished +${sec(l.finish?.min)} s; statuses ${JSON.stringify(l.statuses)}; ` +
            `executions in the database ${l.allExecutions} for ${l.allExecutionTasks} task(s); ` +
            `${l.complete ? `all closed by +${sec(l.progress.finishedAll, 1)} s` : `NOT all closed after ${sec(l.waitedMs, 0)} s`}; ` +
            `max runs 'running' at once per replica ${JSON.stringify(l.maxRunning)}; ` +
            `runs per replica (task_runs_total) ${l.replicas.map((r) => `${r.id}=${r.runs ?? 'n/a'}`).join(', ')}; error log lines ${l.replicas.map((r) => `${r.id}=${r.errors}`).join(', ')}`,
        );
      }
      lines.push('');
      if (late1) aims.push([`p99 start lateness < 2 s, ${late1.n} same-minute tasks, 1 replica`, late1.start && late1.complete ? late1.start.p99 < AIMS.p99LatenessMs : false, `${sec(late1.start?.p99)} s`]);
      if (late3) aims.push([`figure recorded for ${late3.replicaCount} replicas, exactly one execution per task`, late3.exactlyOnce, `p99 ${sec(late3.start?.p99)} s, ${late3.executions} executions for ${late3.distinctTasks} tasks`]);
    }
    for (const [aim, held, value] of aims) {
      lines.push(`${held === null ? 'not measured:' : held ? 'aim held:   ' : 'AIM MISSED: '} ${aim} (${value})`);
    }
    if (notes.length) lines.push('', 'Notes:', ...notes.map((n) => `- ${n}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  // -------------------------------------------------------------- main
  async function main() {
    for (let i = 0; i < 20 && os.loadavg()[0] > settings.maxLoad; i++) {
      log(`load average ${os.loadavg()[0].toFixed(2)} > ${settings.maxLoad}: waiting 15 s`);
      await sleep(15_000);
    }
    const loadStart = os.loadavg()[0].toFixed(2);
    if (os.loadavg()[0] > settings.maxLoad) notes.push(`load average was ${loadStart} at the start (wanted < ${settings.maxLoad}): figures are pessimistic`);

    buildMtime = await ensureBuilt();
    const postgres = await serverVersion();
    const require = createRequire(import.meta.url);
    const facts = {
      ...machineFacts(),
      postgres,
      cron: require('cron/package.json').version,
      build: `${new Date(buildMtime).toISOString()} (firing path ${buildFingerprint()})`,
      loadStart,
    };
    const runStarted = Date.now();

    let reg = null;
    let late1 = null;
    let late3 = null;
    // Estimates for placing the lateness slot, from the registration runs when there are any.
    let startupEstimateMs = 15_000;
    let insertEstimateMs = 5_000;
    if (settings.phases.has('registration')) {
      reg = await registration();
      const near = reg.sizes.reduce((best, s) => (Math.abs(s.n - settings.latenessTasks) < Math.abs(best.n - settings.latenessTasks) ? s : best));
      const scale = settings.latenessTasks / near.n;
      startupEstimateMs = median(near.service.map((s) => s.healthMs)) * Math.max(1, scale);
      insertEstimateMs = near.insertPerTaskMs * settings.latenessTasks + 2000;
    }
    if (settings.phases.has('lateness')) late1 = await lateness(1, startupEstimateMs, insertEstimateMs);
    if (settings.phases.has('replicas') && settings.replicas > 1) late3 = await lateness(settings.replicas, startupEstimateMs, insertEstimateMs);
    facts.date += ` (took ${sec(Date.now() - runStarted, 0)} s)`;
    report(facts, reg, late1, late3);
  }

  await run(main);
}
