// What the benchmark scripts (http.mjs, scheduler.mjs) share: paths, env parsing, logging,
// starting the built service and cleaning up everything started, the build check, throwaway
// PostgreSQL databases, and the figures every report opens with.
//
// Importing this module has no side effects: scheduler.mjs forks itself for its baselines,
// and those children must neither install signal handlers nor load `pg`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');
/** Everything listens on / connects to the loopback interface. */
export const HOST = '127.0.0.1';
/** The server the throwaway databases are created on. */
const PG_URL = process.env.BENCH_PG_URL ?? `postgres://postgres@${HOST}:5432/postgres`;

// ---------------------------------------------------------------- env
/** `raw`, a value from env variable `name`, as a positive integer. */
export function positive(name, raw) {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** The env variable `name` as a positive integer, `fallback` when unset or empty. */
export function positiveInt(name, fallback) {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : positive(name, raw);
}

// ---------------------------------------------------------------- logging
// Progress goes to stderr, so stdout holds only the report.
let clock = false;

/** Prefix every later log line with the time of day (for runs that take minutes). */
export function stampLogs() {
  clock = true;
}

export function log(message) {
  const tag = clock ? `bench ${new Date().toISOString().slice(11, 19)}` : 'bench';
  process.stderr.write(`[${tag}] ${message}\n`);
}

// ---------------------------------------------------------------- resources
// Everything started is registered here, so a failure or Ctrl-C still cleans up.
const cleanups = [];
let cleaningUp = null;

function cleanup() {
  cleaningUp ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup step failed: ${error.message}`);
      }
    }
  })();
  return cleaningUp;
}

/** Registers a cleanup step that can also be run (once) earlier. */
export function owned(step) {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await step();
  };
  cleanups.push(once);
  return once;
}

/** Runs a script's `main`, then cleans up, also on failure or Ctrl-C; a failure sets exit code 1. */
export async function run(main) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    await main();
  } catch (error) {
    process.exitCode = 1;
    log(`FAILED: ${error.stack ?? error}`);
  } finally {
    await cleanup();
  }
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
export async function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A port the OS just reported free on the loopback interface. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns the built service on a free port with a fresh admin key, and registers its stop (SIGKILL
 * after `graceMs`). `env` adds to the settings every run uses; `spawnedAt` is performance.now()
 * just before the spawn, for start-up timings.
 */
export async function spawnService(databaseUrl, { stdio, env, graceMs }) {
  const port = await freePort();
  const apiKey = `bench-${randomBytes(24).toString('hex')}`;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    stdio,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: apiKey,
      LOG_REQUESTS: 'false',
      ...env,
    },
  });
  const stop = owned(() => stopChild(child, graceMs));
  return { child, base: `http://${HOST}:${port}`, apiKey, spawnedAt, stop };
}

// ---------------------------------------------------------------- build
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** A build older than src/ would measure old code. */
export const srcIsNewer = () => newestMtime(join(ROOT, 'src')) > statSync(MAIN).mtimeMs;

/** Why dist/ must be (re)built before measuring, or null; `present`: whether the build is there. */
export function rebuildReason(present = existsSync(MAIN)) {
  if (!present) return 'dist/src/main.js is missing';
  if (srcIsNewer()) return 'src/ is newer than dist/';
  return process.env.BENCH_BUILD === '1' ? 'BENCH_BUILD=1' : null;
}

/** Runs `npx nest build`; true if it succeeded. */
export function nestBuild(reason) {
  log(`building (${reason}): npx nest build`);
  return spawnSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' }).status === 0;
}

// ---------------------------------------------------------------- database
async function withAdminClient(work) {
  const { default: pg } = await import('pg'); // on first use only: see the top of this file
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export const serverVersion = () =>
  withAdminClient(async (client) => (await client.query('SHOW server_version')).rows[0].server_version);

/**
 * A fresh database `<prefix>_<timestamp>_<random>` on BENCH_PG_URL, dropped at cleanup or
 * earlier by `drop()`. `label` only goes into the log line.
 */
export async function createDatabase(prefix, label) {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const name = `${prefix}_${stamp}_${randomBytes(2).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  const drop = owned(async () => {
    // FORCE: a stray connection from a killed service must not keep the database alive.
    await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    log(`dropped database ${name}`);
  });
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  log(`created database ${name}${label ? ` (${label})` : ''}`);
  return { name, url: url.toString(), drop };
}

// ---------------------------------------------------------------- report
export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The machine a report was measured on. */
export function machineFacts() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}
