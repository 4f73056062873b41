import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBackup, verifyBackup } from '../../src/backups/archive/backup-archive';
import { BackupNotFoundError, BackupStoreError } from '../../src/backups/storage/backup-store';
import { DigestStream } from '../../src/backups/storage/content-digest';
import { S3BackupStore, type S3BackupStoreOptions } from '../../src/backups/storage/s3-store';
import { ageKeygen, generatedTar, makeLargeFileTree, makeSmallFilesTree, sha256File, shell, snapshot, tarOf } from './support/fixtures';
import { TestS3Server } from './support/s3-server';

const BUCKET = 'backups';
const SECRET = 'a-secret-access-key/that+must-never-leak';
const PART_SIZE = 8 * 1024 * 1024;

describe('backup archive in S3 (s3rver on 127.0.0.1)', () => {
  let work: string;
  let small: string;
  let large: string;
  let identity: string;
  let recipient: string;
  let server: TestS3Server;
  let options: S3BackupStoreOptions;
  let store: S3BackupStore;
  let client: S3Client;
  const manifest = { project: 'demo', type: 'full', volumes: ['app-data', 'big'] };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'backup-s3-'));
    small = join(work, 'small');
    large = join(work, 'large');
    await makeSmallFilesTree(small);
    await makeLargeFileTree(large, 64 * 1024 * 1024);
    identity = join(work, 'key.txt');
    recipient = await ageKeygen(identity);
    server = new TestS3Server(join(work, 's3rver'), BUCKET);
    await server.start();
    options = {
      endpoint: server.endpoint,
      region: 'us-east-1',
      bucket: BUCKET,
      prefix: '/tasks/',
      accessKeyId: TestS3Server.accessKeyId,
      secretAccessKey: SECRET,
      forcePathStyle: true,
      partSize: PART_SIZE,
      queueSize: 2,
      cleanupTimeoutMs: 20_000,
    };
    store = new S3BackupStore(options);
    client = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: TestS3Server.accessKeyId, secretAccessKey: SECRET },
    });
  });

  afterAll(async () => {
    store.close();
    client.destroy();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  });

  const objectKeys = async () =>
    ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((object) => object.Key);
  const multipartUploads = async () => (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
  const waitFor = async (condition: () => Promise<boolean>) => {
    while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('stores a two-source encrypted backup by multipart upload, verified; age and tar restore it byte for byte', async () => {
    const archive = packBackup(
      {
        manifest,
        sources: [
          { prefix: 'volumes/app-data/', tar: async () => tarOf(small) },
          { prefix: 'volumes/big/', tar: async () => tarOf(large) },
        ],
      },
      { encryption: { recipients: [recipient] } },
    );
    const stored = await store.write('demo/full-1.tar.gz.age', archive, new AbortController().signal);
    expect(stored.location).toBe(`s3://${BUCKET}/tasks/demo/full-1.tar.gz.age`);
    expect(stored.size).toBeGreaterThan(8 * PART_SIZE);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'tasks/demo/full-1.tar.gz.age' }));
    expect(head.ContentLength).toBe(stored.size);
    expect(await multipartUploads()).toEqual([]);

    const downloaded = join(work, 'downloaded.age');
    await pipeline(await store.read('demo/full-1.tar.gz.age'), createWriteStream(downloaded));
    expect(await sha256File(downloaded)).toBe(stored.sha256);
    const restored = join(work, 'restored');
    await mkdir(restored);
    await shell(`age -d -i '${identity}' '${downloaded}' | tar -xz -C '${restored}'`);
    expect(await snapshot(join(restored, 'volumes', 'app-data'))).toEqual(await snapshot(join(small, 'data')));
    expect(await snapshot(join(restored, 'volumes', 'big'))).toEqual(await snapshot(join(large, 'data')));

    const summary = await verifyBackup(await store.read('demo/full-1.tar.gz.age'), stored.sha256, { identityFile: identity });
    expect(summary).toMatchObject({ size: stored.size, encrypted: true, manifest });
  });

  it('a single-part upload is verified too (plain MD5 ETag)', async () => {
    const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/app-data/', tar: tarOf(small) }] }, { encryption: { recipients: [recipient] } });
    const stored = await store.write('demo/small.tar.gz.age', archive, new AbortController().signal);
    expect(stored.size).toBeLessThan(PART_SIZE);
    await verifyBackup(await store.read('demo/small.tar.gz.age'), stored.sha256, { identityFile: identity });
  });

  it('rejects and deletes the object when the store reports other bytes than were sent', async () => {
    server.misreportedETag = '0123456789abcdef0123456789abcdef';
    try {
      const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/app-data/', tar: tarOf(small) }] });
      await expect(store.write('demo/misreported.tar.gz', archive, new AbortController().signal)).rejects.toThrow(
        /Verification of s3:\/\/backups\/tasks\/demo\/misreported\.tar\.gz failed: the store reports \d+ bytes with ETag "0123456789abcdef0123456789abcdef"/,
      );
    } finally {
      server.misreportedETag = undefined;
    }
    expect(await objectKeys()).not.toContain('tasks/demo/misreported.tar.gz');
  });

  it('the server dying mid-upload: write rejects, the multipart upload is aborted once it is back, no object', async () => {
    const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/big/', tar: generatedTar(256 * 1024 * 1024) }] }, { compressionLevel: 1 });
    // Destroyed with an error, so 'close' (not events.once, which rejects on 'error').
    const closed = new Promise((resolve) => archive.once('close', resolve));
    const writing = store.write('demo/crashed.tar.gz', archive, new AbortController().signal).then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitFor(async () => (await server.storedParts()) >= 2);
    expect(await server.pendingUploads()).toHaveLength(1);
    await server.stop();
    // The store gives up on the upload and closes its source; it keeps trying to clean up meanwhile.
    await closed;
    await server.start();

    const error = await writing;
    expect(error).toBeInstanceOf(BackupStoreError);
    expect((error as Error).message).toMatch(/^Writing s3:\/\/backups\/tasks\/demo\/crashed\.tar\.gz failed: /);
    expect((error as Error).message).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    expect((error as Error).message).not.toMatch(/cleaning up failed/);
    expect(await server.pendingUploads()).toEqual([]);
    expect(await multipartUploads()).toEqual([]);
    expect(await objectKeys()).not.toContain('tasks/demo/crashed.tar.gz');
  });

  it('a server that stays down: the rejection names the multipart upload left behind', async () => {
    const impatient = new S3BackupStore({ ...options, cleanupTimeoutMs: 300 });
    try {
      const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/big/', tar: generatedTar(256 * 1024 * 1024) }] }, { compressionLevel: 1 });
      const writing = impatient.write('demo/left-behind.tar.gz', archive, new AbortController().signal).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      await waitFor(async () => (await server.storedParts()) >= 1);
      const [uploadId] = await server.pendingUploads();
      await server.stop();
      const error = await writing;
      expect(error?.message).toContain(`cleaning up failed too: multipart upload ${uploadId} could not be aborted`);
      await server.start();
      expect(await multipartUploads()).toMatchObject([{ Key: 'tasks/demo/left-behind.tar.gz', UploadId: uploadId }]);
      await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'tasks/demo/left-behind.tar.gz', UploadId: uploadId }));
    } finally {
      impatient.close();
    }
  });

  it('an abort mid-upload rejects with AbortError, aborts the multipart upload and leaves no object', async () => {
    const controller = new AbortController();
    const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/big/', tar: generatedTar(256 * 1024 * 1024) }] }, { compressionLevel: 1 });
    const writing = store.write('demo/aborted.tar.gz', archive, controller.signal);
    await waitFor(async () => (await server.storedParts()) >= 2);
    controller.abort();
    await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
    expect(archive.destroyed).toBe(true);
    expect(await server.pendingUploads()).toEqual([]);
    expect(await objectKeys()).not.toContain('tasks/demo/aborted.tar.gz');
  });

  it('never puts the credentials in an error', async () => {
    const leaky = new S3BackupStore({ ...options, accessKeyId: 'AKIALEAKCHECK0123456', secretAccessKey: SECRET });
    try {
      const failures = await Promise.all([
        leaky.write('demo/denied.tar.gz', Readable.from([Buffer.from('x')]), new AbortController().signal).catch((error: unknown) => error),
        leaky.read('demo/full-1.tar.gz.age').catch((error: unknown) => error),
        leaky.delete('demo/full-1.tar.gz.age').catch((error: unknown) => error),
      ]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(BackupStoreError);
        const everything = `${(failure as Error).message}\n${inspect(failure, { depth: 10 })}\n${JSON.stringify(failure)}`;
        expect(everything).toMatch(/InvalidAccessKeyId|HTTP 403/);
        expect(everything).not.toContain('AKIALEAKCHECK0123456');
        expect(everything).not.toContain(SECRET);
      }
    } finally {
      leaky.close();
    }
  });

  it('computes the multipart ETag S3 reports over the same part boundaries as the upload', async () => {
    // s3rver reports a plain MD5 even for multipart objects; AWS reports MD5-of-part-MD5s-N.
    const md5 = (data: Buffer) => createHash('md5').update(data).digest();
    for (const size of [0, 1000, PART_SIZE, 2 * PART_SIZE, 3 * PART_SIZE + 12345]) {
      const data = randomBytes(size);
      const digest = new DigestStream(PART_SIZE);
      // Chunks that straddle the part boundaries.
      const chunks = Array.from({ length: Math.ceil(size / 100_003) }, (_, index) => data.subarray(index * 100_003, (index + 1) * 100_003));
      await pipeline(Readable.from(chunks), digest, new PassThrough().resume());
      const parts = Array.from({ length: Math.ceil(size / PART_SIZE) }, (_, index) => data.subarray(index * PART_SIZE, (index + 1) * PART_SIZE));
      const expected = [md5(data).toString('hex')];
      if (parts.length > 1) expected.push(`${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}`);
      expect(digest.expectedETags).toEqual(expected);
      expect(digest.byteCount).toBe(size);
      expect(digest.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('reads and deletes by key; a missing key is BackupNotFoundError', async () => {
    await expect(store.read('demo/never-written')).rejects.toBeInstanceOf(BackupNotFoundError);
    await store.delete('demo/small.tar.gz.age');
    await expect(store.read('demo/small.tar.gz.age')).rejects.toBeInstanceOf(BackupNotFoundError);
    await store.delete('demo/small.tar.gz.age');
  });
});
