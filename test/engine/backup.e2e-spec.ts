import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execInContainer } from '../../src/docker/container-exec';
import { ageKeygen, shell } from '../backups/support/fixtures';
import { TestS3Server } from '../backups/support/s3-server';
import { createProjectContainer, removeProject, testEngine, uniqueName, type TestEngine } from '../support/engine';
import { ApiClient } from '../support/api-client';
import { createApiKey, createProject, createTask } from '../support/factories';
import { startTestApp, type TestApp } from '../support/test-app';

const S3_SECRET = 'test-s3-secret-access-key-value';
const LARGE_BYTES = 24 * 1024 * 1024;

/** Fills /data of a running container: 300 small files in nested directories, a symlink, one large random file. */
const FILL = [
  'mkdir -p /data/small/a/b /data/empty',
  'i=0; while [ $i -lt 300 ]; do echo "file $i" > /data/small/a/b/f$i.txt; i=$((i+1)); done',
  `head -c ${LARGE_BYTES} /dev/urandom > /data/large.bin`,
  'ln -s large.bin /data/link-to-large',
  'chmod 600 /data/small/a/b/f7.txt',
].join(' && ');

/** `sha256  ./path` lines of every file under `dir`, sorted: what "byte for byte the same" is checked with. */
const CHECKSUMS = (dir: string) => `cd ${dir} && find . -type f | sort | xargs sha256sum && find . -type l | sort | xargs -n1 readlink`;

describe('backups of real volumes', () => {
  let t: TestApp;
  let engine: TestEngine;
  let s3: TestS3Server;
  let work: string;
  let identityFile: string;
  let projectId: string;
  let db: string;
  let volume: string;
  let bindDir: string;
  let original: string;

  /** stdout of a shell script run in the container (the service's own exec, output limit far above what is read here). */
  const inContainer = async (container: string, script: string) => {
    const result = await execInContainer(engine.docker.getContainer(container), script, {
      signal: new AbortController().signal,
      timeoutSeconds: 60,
      outputLimitBytes: 1024 * 1024,
    });
    return result.stdout + result.stderr;
  };
  const s3Keys = async () => {
    const listing = await (await fetch(`${s3.endpoint}/backups?list-type=2&prefix=scheduler/`)).text();
    return (listing.match(/<Key>[^<]+<\/Key>/g) ?? []).sort();
  };
  const run = async (taskId: string) => {
    const { execution } = (await t.api.post(`/api/v1/tasks/${taskId}/run`)).body as { execution: { id: string } };
    return (await t.api.get(`/api/v1/tasks/${taskId}/executions/${execution.id}`)).body as Record<string, any>;
  };
  const backupTask = (backupConfig: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    createTask(t.api, projectId, { type: 'backup', backupConfig, ...extra });
  /** Unpacks a stored archive with the standard tools, as the README tells operators to. */
  const unpackByHand = async (archive: string, encrypted: boolean) => {
    const out = mkdtempSync(join(work, 'out-'));
    await shell(encrypted ? `age -d -i ${identityFile} ${archive} | tar -xz -C ${out}` : `tar -xzf ${archive} -C ${out}`);
    return out;
  };

  beforeAll(async () => {
    engine = testEngine();
    work = mkdtempSync(join(tmpdir(), 'backup-e2e-'));
    identityFile = join(work, 'key.txt');
    const recipient = await ageKeygen(identityFile);
    s3 = new TestS3Server(join(work, 's3'), 'backups');
    await s3.start();
    t = await startTestApp({
      DOCKER_HOST: engine.host,
      BACKUP_LOCAL_DIR: join(work, 'local'),
      BACKUP_AGE_RECIPIENTS: recipient,
      BACKUP_AGE_IDENTITY_FILE: identityFile,
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: 'backups',
      S3_PREFIX: 'scheduler/',
      S3_ACCESS_KEY_ID: TestS3Server.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3_SECRET,
      S3_FORCE_PATH_STYLE: 'true',
    });
    projectId = (await createProject(t.api)).id;
    volume = `${projectId}_data`;
    bindDir = join(work, 'bind');
    await shell(`mkdir -p ${bindDir}/conf && echo "listen 80" > ${bindDir}/conf/app.conf`);
    db = uniqueName('db');
    await engine.docker.createVolume({ Name: volume, Labels: { 'com.docker.compose.project': projectId } });
    await createProjectContainer(engine, projectId, { name: db, service: 'db', binds: [`${volume}:/data`, `${bindDir}:/etc/app`] });
    await inContainer(db, FILL);
    original = await inContainer(db, CHECKSUMS('/data'));
    expect(original.split('\n').length).toBeGreaterThan(300);
  });

  afterAll(async () => {
    await t?.close();
    await s3?.stop();
    if (projectId) await removeProject(engine, projectId, [volume]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('backs a project up encrypted to a local directory; the age and tar CLIs give the same bytes back', async () => {
    const task = await backupTask({ type: 'full', destination: 'local', encrypt: true });
    const execution = await run(task.id);
    expect(execution.status).toBe('success');
    const result = execution.result;
    expect(result).toMatchObject({
      backupId: expect.stringMatching(/^backup-/),
      destination: 'local',
      encrypted: true,
      type: 'full',
      volumes: [volume],
      bindMounts: [bindDir],
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      size: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expect(result.location).toMatch(new RegExp(`^${join(work, 'local', projectId)}/.*${result.backupId}\\.tar\\.gz\\.age$`));
    expect((await shell(`sha256sum ${result.location}`)).split(' ')[0]).toBe(result.sha256);

    const out = await unpackByHand(result.location, true);
    expect(await shell(CHECKSUMS(join(out, 'volumes', volume)))).toBe(original);
    const bindPrefix = readdirSync(join(out, 'binds'))[0];
    expect(readFileSync(join(out, 'binds', bindPrefix, 'conf/app.conf'), 'utf8')).toBe('listen 80\n');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ projectId, backupId: result.backupId, type: 'full' });
    expect(manifest.containers[0]).toMatchObject({ name: db, labels: { 'com.docker.compose.project': projectId } });
    expect(manifest.mounts).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'volume', name: volume, mountedBy: [{ container: db, destination: '/data' }] })]),
    );

    const listed = await t.api.get(`/api/v1/projects/${projectId}/backups`);
    expect(listed.body.backups[0]).toEqual({
      backupId: result.backupId,
      taskId: task.id,
      createdAt: expect.any(String),
      size: result.size,
      destination: 'local',
      encrypted: true,
      location: result.location,
      type: 'full',
      sha256: result.sha256,
      volumes: [bindDir, volume],
    });
  });

  it('backs up to S3 by multipart upload, verified; no credential anywhere in what is kept', async () => {
    const task = await backupTask({ type: 'volumes', destination: 's3', encrypt: true });
    const execution = await run(task.id);
    expect(execution.status).toBe('success');
    const { location, sha256, size } = execution.result;
    expect(location).toMatch(new RegExp(`^s3://backups/scheduler/${projectId}/`));
    expect(execution.result.bindMounts).toEqual([]);

    const key = location.replace('s3://backups/', '');
    const downloaded = join(work, 'downloaded.age');
    const response = await fetch(`${s3.endpoint}/backups/${key}`);
    writeFileSync(downloaded, Buffer.from(await response.arrayBuffer()));
    expect((await shell(`stat -c %s ${downloaded}`)).trim()).toBe(String(size));
    expect((await shell(`sha256sum ${downloaded}`)).split(' ')[0]).toBe(sha256);
    const out = await unpackByHand(downloaded, true);
    expect(await shell(CHECKSUMS(join(out, 'volumes', volume)))).toBe(original);
    expect(existsSync(join(out, 'binds'))).toBe(false);

    const everything = JSON.stringify((await t.api.get(`/api/v1/tasks/${task.id}/executions/${execution.id}`)).body);
    expect(everything).not.toContain(S3_SECRET);
  });

  it('restores through the API: verified first, the volume replaced, its containers running again', async () => {
    const task = await backupTask({ type: 'volumes', destination: 'local', encrypt: true });
    const { result } = await run(task.id);
    await inContainer(db, 'rm /data/small/a/b/f1.txt && echo changed > /data/small/a/b/f2.txt && echo new > /data/added.txt && rm /data/large.bin');
    expect(await inContainer(db, CHECKSUMS('/data'))).not.toBe(original);

    const response = await t.api.post(`/api/v1/projects/${projectId}/backups/${result.backupId}/restore`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      success: true,
      restore: { backupId: result.backupId, restored: [volume], containersRestarted: [db], verified: { sha256: result.sha256 } },
    });
    expect((await engine.docker.getContainer(db).inspect()).State.Running).toBe(true);
    expect(await inContainer(db, CHECKSUMS('/data'))).toBe(original);
    expect(await inContainer(db, 'ls /data/added.txt 2>&1 || true')).toContain('No such file');
  });

  it('refuses a corrupted object and a wrong identity before changing anything (422)', async () => {
    const task = await backupTask({ type: 'volumes', destination: 'local', encrypt: true });
    const { result } = await run(task.id);
    await inContainer(db, 'echo after-backup > /data/marker.txt');
    const before = await inContainer(db, CHECKSUMS('/data'));

    // One flipped byte in the middle of the stored object.
    const bytes = readFileSync(result.location);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(result.location, flipped);
    const corrupted = await t.api.post(`/api/v1/projects/${projectId}/backups/${result.backupId}/restore`);
    expect(corrupted.status).toBe(422);
    expect(corrupted.body).toMatchObject({ success: false, error: 'Backup cannot be restored', details: expect.stringMatching(/checksum/i) });
    expect(await inContainer(db, CHECKSUMS('/data'))).toBe(before);
    writeFileSync(result.location, bytes);

    // Another identity: the service cannot decrypt it.
    const otherIdentity = join(work, 'other-key.txt');
    await ageKeygen(otherIdentity);
    const original = readFileSync(identityFile);
    writeFileSync(identityFile, readFileSync(otherIdentity));
    try {
      const wrongKey = await t.api.post(`/api/v1/projects/${projectId}/backups/${result.backupId}/restore`);
      expect(wrongKey.status).toBe(422);
      expect(wrongKey.body.details).toMatch(/identit|key|decrypt/i);
    } finally {
      writeFileSync(identityFile, original);
    }
    expect(await inContainer(db, CHECKSUMS('/data'))).toBe(before);
    await inContainer(db, 'rm /data/marker.txt');
  });

  it('applies retention after each success: keepLast, only this task’s backups of this project', async () => {
    const other = await backupTask({ type: 'config', destination: 'local', encrypt: false });
    const otherRun = await run(other.id);
    const task = await backupTask({ type: 'config', destination: 'local', encrypt: false, retention: { keepLast: 2 } });
    const ids: string[] = [];
    const locations: string[] = [];
    for (let i = 0; i < 3; i++) {
      const execution = await run(task.id);
      expect(execution.status).toBe('success');
      ids.push(execution.result.backupId);
      locations.push(execution.result.location);
    }
    expect(ids).toHaveLength(3);
    const listed = (await t.api.get(`/api/v1/projects/${projectId}/backups`)).body.backups.map((b: { backupId: string }) => b.backupId);
    expect(listed).toEqual(expect.arrayContaining([ids[1], ids[2], otherRun.result.backupId]));
    expect(listed).not.toContain(ids[0]);
    expect(existsSync(locations[0])).toBe(false);
    expect(existsSync(locations[2])).toBe(true);
  });

  it('runs hooks in the project’s containers: a before hook’s dump is in the backup; a failing one fails the run, storing nothing', async () => {
    const task = await backupTask({
      type: 'volumes',
      destination: 'local',
      encrypt: false,
      hooks: { before: [{ container: 'db', command: 'echo "-- dump" > /data/dump.sql' }], after: [{ container: db, command: 'rm /data/dump.sql' }] },
    });
    const execution = await run(task.id);
    expect(execution.status).toBe('success');
    const out = await unpackByHand(execution.result.location, false);
    expect(readFileSync(join(out, 'volumes', volume, 'dump.sql'), 'utf8')).toBe('-- dump\n');
    expect(await inContainer(db, 'ls /data/dump.sql 2>&1 || true')).toContain('No such file');

    const count = (await t.api.get(`/api/v1/projects/${projectId}/backups`)).body.backups.length;
    const failing = await backupTask({ type: 'volumes', destination: 'local', encrypt: false, hooks: { before: [{ container: 'db', command: 'exit 3' }] } });
    const failed = await run(failing.id);
    expect(failed).toMatchObject({ status: 'failed', error: `before hook in ${db} exited with code 3` });
    expect((await t.api.get(`/api/v1/projects/${projectId}/backups`)).body.backups.length).toBe(count);
  });

  it('with stopContainers: stops them for the copy and starts them again, also when the upload fails midway', async () => {
    const ok = await backupTask({ type: 'volumes', destination: 'local', encrypt: false, stopContainers: true });
    const execution = await run(ok.id);
    expect(execution.error ?? '').toBe('');
    expect(execution.status).toBe('success');
    expect(execution.result.containersStopped).toEqual([db]);
    expect((await engine.docker.getContainer(db).inspect()).State.Running).toBe(true);

    // The S3 server goes away during the upload: failed run, no object, no upload left, db running.
    const task = await backupTask({ type: 'volumes', destination: 's3', encrypt: false, stopContainers: true });
    const started = await t.api.post(`/api/v1/tasks/${task.id}/run?wait=false`);
    const executionId = started.body.execution.id as string;
    await expect.poll(async () => (await s3.pendingUploads()).length + (await s3.storedParts()), { timeout: 20_000, interval: 20 }).toBeGreaterThan(0);
    const keysBefore = await s3Keys();
    await s3.stop();
    // Back a little later, as a restarted server would be: the failed run's cleanup gets through then.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await s3.start();
    await expect
      .poll(async () => (await t.api.get(`/api/v1/tasks/${task.id}/executions/${executionId}`)).body.status, { timeout: 60_000, interval: 250 })
      .toBe('failed');
    const failed = (await t.api.get(`/api/v1/tasks/${task.id}/executions/${executionId}`)).body;
    expect(failed.error).toMatch(/s3:\/\/backups\/scheduler\//);
    expect(failed.error).not.toContain(S3_SECRET);
    expect(await s3Keys()).toEqual(keysBefore);
    expect(await s3.pendingUploads()).toEqual([]);
    expect((await engine.docker.getContainer(db).inspect()).State.Running).toBe(true);
  });
});

describe('backups on a server without S3, keys or identity', () => {
  let t: TestApp;
  let work: string;
  const projects: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'backup-bare-'));
    t = await startTestApp({ DOCKER_HOST: testEngine().host, BACKUP_LOCAL_DIR: join(work, 'local') });
  });

  afterAll(async () => {
    await t?.close();
    for (const project of projects) await removeProject(testEngine(), project);
    rmSync(work, { recursive: true, force: true });
  });

  it('fails runs that need what is not configured, saying which setting, and stores nothing', async () => {
    const project = await createProject(t.api);
    const empty = await createTask(t.api, project.id, { type: 'backup', backupConfig: { type: 'config', destination: 'local', encrypt: false } });
    expect((await t.api.post(`/api/v1/tasks/${empty.id}/run`)).body.execution).toMatchObject({
      status: 'failed',
      error: `Nothing to back up: no containers labelled com.docker.compose.project=${project.id} on ${testEngine().host}`,
    });
    const toS3 = await createTask(t.api, project.id, { type: 'backup', backupConfig: { type: 'config', destination: 's3', encrypt: false } });
    const encrypted = await createTask(t.api, project.id, { type: 'backup', backupConfig: { type: 'config', destination: 'local', encrypt: true } });
    expect((await t.api.post(`/api/v1/tasks/${toS3.id}/run`)).body.execution).toMatchObject({
      status: 'failed',
      error: 'Backup destination s3: no S3 bucket is configured on this server (S3_BUCKET)',
    });
    expect((await t.api.post(`/api/v1/tasks/${encrypted.id}/run`)).body.execution).toMatchObject({
      status: 'failed',
      error: 'encrypt is set but no BACKUP_AGE_RECIPIENTS or BACKUP_AGE_PASSPHRASE is configured on this server',
    });
    expect((await t.api.get(`/api/v1/projects/${project.id}/backups`)).body).toEqual({ backups: [] });
  });

  it('answers restore requests with clear errors: unknown project or backup (404), read-only key (403)', async () => {
    const project = await createProject(t.api);
    projects.push(project.id);
    await createProjectContainer(testEngine(), project.id, { name: uniqueName('app') });
    const plain = await createTask(t.api, project.id, { type: 'backup', backupConfig: { type: 'config', destination: 'local', encrypt: false } });
    const { backupId } = (await t.api.post(`/api/v1/tasks/${plain.id}/run`)).body.execution.result;
    expect((await t.api.post(`/api/v1/projects/${project.id}/backups/backup-0000000000000000/restore`)).body).toEqual({
      success: false,
      error: 'Backup not found',
    });
    expect((await t.api.post(`/api/v1/projects/no-such-project/backups/${backupId}/restore`)).status).toBe(404);
    expect((await t.api.get('/api/v1/projects/no-such-project/backups')).body).toEqual({ success: false, error: 'Project not found' });
    const reader = await createApiKey(t.api, ['projects:read']);
    const asReader = new ApiClient(t.api.baseUrl, reader.key);
    expect((await asReader.get(`/api/v1/projects/${project.id}/backups`)).status).toBe(200);
    expect((await asReader.post(`/api/v1/projects/${project.id}/backups/${backupId}/restore`)).status).toBe(403);
    // A config-only backup has no mounts to write: its restore verifies the archive and changes nothing.
    const restored = await t.api.post(`/api/v1/projects/${project.id}/backups/${backupId}/restore`);
    expect(restored.body.details ?? '').toBe('');
    expect(restored.body).toMatchObject({ success: true, restore: { restored: [], containersRestarted: [] } });
  });
});
