// HTTP benchmark of the tasks API on PostgreSQL (`npm run bench`).
//
// Starts the built service against a fresh PostgreSQL database, seeds 100 tasks,
// and measures with autocannon, in interleaved rounds (so drift hits every scenario
// alike): a bare node:http server (the physical limit), an authenticated static
// route, GET one task, GET the 100-task list, and the bare server again with the
// list-sized body. Prints medians across rounds, ratios, and whether the aims hold.
//
// Env: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (50),
// BENCH_ROUNDS (3), BENCH_PG_URL (server to create the database on, default
// postgres://postgres@127.0.0.1:5432/postgres), BENCH_BUILD=1 (rebuild even if dist/ is fresh),
// BENCH_STATIC_PATH (default /api/v1/me: the calling key, no task data; the baseline route).
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { createHistogram } from 'node:perf_hooks';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  HOST,
  ROOT,
  createDatabase,
  log,
  machineFacts,
  median,
  nestBuild,
  owned,
  positiveInt,
  rebuildReason,
  run,
  serverVersion,
  spawnService,
  stopChild,
} from './support.mjs';

const settings = {
  duration: positiveInt('BENCH_DURATION', 10),
  warmup: positiveInt('BENCH_WARMUP', 2),
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  rounds: positiveInt('BENCH_ROUNDS', 3),
  staticPath: process.env.BENCH_STATIC_PATH ?? '/api/v1/me',
};
const TASK_COUNT = 100;
const AIMS = { get: 1 / 2, list: 1 / 3 }; // minimum throughput relative to the static route

/** Builds when dist/ is missing or older than src/: a stale build would measure old code. */
function ensureBuilt() {
  const reason = rebuildReason();
  if (reason && !nestBuild(reason)) throw new Error('nest build failed');
}

// ---------------------------------------------------------------- service
async function startService(databaseUrl) {
  const { child, base, apiKey } = await spawnService(databaseUrl, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { LOG_LEVEL: 'warn' },
    graceMs: 5000,
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with code ${child.exitCode} during start-up`);
    try {
      if ((await fetch(`${base}/health`)).ok) return { base, apiKey };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error('service did not answer /health within 60 s');
}

async function startBareServer(bodies) {
  const child = fork(join(ROOT, 'bench', 'bare-server.mjs'), { stdio: 'inherit' });
  owned(() => stopChild(child));
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bare server exited with code ${code}`)));
  });
  child.send({ bodies });
  const { port } = await ready;
  return `http://${HOST}:${port}`;
}

// ---------------------------------------------------------------- seeding
async function api(service, method, path, body) {
  const response = await fetch(`${service.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${service.apiKey}`, ...(body && { 'content-type': 'application/json' }) },
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text };
}

async function expectStatus(service, method, path, expected, body) {
  const { status, text } = await api(service, method, path, body);
  if (status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${status}: ${text.slice(0, 300)}`);
  return text;
}

async function seed(service) {
  await expectStatus(service, 'POST', '/api/v1/projects', 201, { id: 'bench', name: 'Bench' });
  const ids = [];
  for (let i = 0; i < TASK_COUNT; i++) {
    const text = await expectStatus(service, 'POST', '/api/v1/tasks', 201, {
      name: `bench-backup-${String(i).padStart(3, '0')}`,
      type: 'backup',
      projectId: 'bench',
      cronExpression: '0 2 * * *',
      timezone: 'America/New_York',
      backupConfig: { type: 'full', destination: 's3', encrypt: true },
    });
    ids.push(JSON.parse(text).task.id);
  }
  return ids;
}

// ---------------------------------------------------------------- measuring
async function cannon(url, headers, duration) {
  const instance = autocannon({ url, headers, connections: settings.connections, duration });
  // autocannon's own latency histogram has whole-millisecond resolution, too coarse for
  // sub-millisecond routes; its per-response times are exact, so record those in microseconds.
  const latency = createHistogram();
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latency.record(Math.max(1, Math.round(responseTime * 1000)));
  });
  const result = await instance;
  const failures = result.non2xx + result.errors + result.timeouts;
  if (failures > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `(status counts ${JSON.stringify({ '1xx': result['1xx'], '2xx': result['2xx'], '3xx': result['3xx'], '4xx': result['4xx'], '5xx': result['5xx'] })})`,
    );
  }
  return { rps: result.requests.average, p50: latency.percentile(50) / 1000, p99: latency.percentile(99) / 1000 };
}

const ms = (value) => value.toFixed(2);

async function measure(scenarios) {
  const samples = new Map(scenarios.map((scenario) => [scenario.key, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const scenario of scenarios) {
      await cannon(scenario.url, scenario.headers, settings.warmup); // JIT, pools, caches
      const sample = await cannon(scenario.url, scenario.headers, settings.duration);
      samples.get(scenario.key).push(sample);
      log(`round ${round}/${settings.rounds} ${scenario.label}: ${Math.round(sample.rps)} req/s, p50 ${ms(sample.p50)} ms, p99 ${ms(sample.p99)} ms`);
    }
  }
  return scenarios.map((scenario) => {
    const runs = samples.get(scenario.key);
    return {
      ...scenario,
      runs: runs.map((run) => run.rps),
      rps: median(runs.map((run) => run.rps)),
      p50: median(runs.map((run) => run.p50)),
      p99: median(runs.map((run) => run.p99)),
    };
  });
}

// ---------------------------------------------------------------- report
function report(results, facts) {
  const by = Object.fromEntries(results.map((result) => [result.key, result]));
  const ratio = (a, b) => by[a].rps / by[b].rps;
  const fixed = (value, digits = 2) => value.toFixed(digits);

  const lines = [
    `Date: ${facts.date}`,
    `Machine: ${facts.cpuModel}, ${facts.cpus} CPUs, ${facts.memoryGiB} GiB RAM, ${facts.os}`,
    `Node ${facts.node}, PostgreSQL ${facts.postgres}, autocannon ${facts.autocannon}`,
    `Load: ${settings.connections} connections, ${settings.rounds} rounds x ${settings.duration} s (after ${settings.warmup} s warm-up each), medians across rounds`,
    '',
    '| Scenario | Body (bytes) | req/s (median) | p50 (ms) | p99 (ms) | req/s per round |',
    '|---|---:|---:|---:|---:|---|',
    ...results.map(
      (r) => `| ${r.label} | ${r.bytes} | ${Math.round(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.runs.map(Math.round).join(', ')} |`,
    ),
    '',
    `get/static    = ${fixed(ratio('get', 'static'))}  (aim >= ${fixed(AIMS.get)})`,
    `list/static   = ${fixed(ratio('list', 'static'))}  (aim >= ${fixed(AIMS.list)})`,
    `static/bare   = ${fixed(ratio('static', 'bareOne'))}`,
    `list/bareList = ${fixed(ratio('list', 'bareList'))}`,
    '',
  ];
  const aims = [
    ['get >= 0.5 x static', ratio('get', 'static') >= AIMS.get],
    ['list >= 1/3 x static', ratio('list', 'static') >= AIMS.list],
  ];
  for (const [aim, held] of aims) lines.push(held ? `aim held:   ${aim}` : `AIM MISSED: ${aim}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------- main
async function main() {
  ensureBuilt();
  const database = await createDatabase('bench');
  const service = await startService(database.url);
  const taskIds = await seed(service);
  log(`seeded 1 project and ${taskIds.length} tasks`);

  // Integrations hold stored keys (looked up per request), not the bootstrap key: measure with one.
  const minted = JSON.parse(
    await expectStatus(service, 'POST', '/api/v1/api-keys', 201, { name: 'bench reader', permissions: ['tasks:read'] }),
  );
  service.apiKey = minted.key;
  const auth = { authorization: `Bearer ${service.apiKey}` };
  const getPath = `/api/v1/tasks/${taskIds[0]}`;
  const listPath = `/api/v1/tasks?limit=${TASK_COUNT}`;
  const staticBody = await expectStatus(service, 'GET', settings.staticPath, 200);
  const oneBody = await expectStatus(service, 'GET', getPath, 200);
  const listBody = await expectStatus(service, 'GET', listPath, 200);
  if (JSON.parse(listBody).tasks.length !== TASK_COUNT) throw new Error(`the list did not return ${TASK_COUNT} tasks`);

  // The bare server answers with the service's own bodies, byte for byte.
  const bare = await startBareServer({ '/one': oneBody, '/list': listBody });

  const size = (text) => Buffer.byteLength(text);
  const scenarios = [
    { key: 'bareOne', label: 'bare node:http, one-task body', url: `${bare}/one`, bytes: size(oneBody) },
    { key: 'static', label: `static route ${settings.staticPath} (${settings.staticPath.startsWith('/api/') ? 'auth' : 'public'})`, url: service.base + settings.staticPath, headers: auth, bytes: size(staticBody) },
    { key: 'get', label: 'GET /api/v1/tasks/:id (auth)', url: service.base + getPath, headers: auth, bytes: size(oneBody) },
    { key: 'list', label: `GET /api/v1/tasks?limit=${TASK_COUNT} (auth)`, url: service.base + listPath, headers: auth, bytes: size(listBody) },
    { key: 'bareList', label: 'bare node:http, 100-task body', url: `${bare}/list`, bytes: size(listBody) },
  ];
  const results = await measure(scenarios);

  report(results, {
    ...machineFacts(),
    postgres: await serverVersion(),
    autocannon: createRequire(import.meta.url)('autocannon/package.json').version,
  });
}

await run(main);
