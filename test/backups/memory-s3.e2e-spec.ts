import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3BackupStore } from '../../src/backups/storage/s3-store';
import { ageKeygen } from './support/fixtures';
import { backUpLargeSource, MAX_RSS_GROWTH_MB } from './support/memory';
import { startS3rverProcess, TestS3Server } from './support/s3-server';

let work: string;
let server: { endpoint: string; stop: () => Promise<void> };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'backup-memory-s3-'));
  // In its own process, as a real S3 would be: only the service's side is measured.
  server = await startS3rverProcess(join(work, 's3rver'), 'backups');
});

afterAll(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

it('backing up a 512 MiB source to S3 keeps RSS flat', async ({ annotate }) => {
  const recipient = await ageKeygen(join(work, 'key.txt'));
  const store = new S3BackupStore({
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: 'backups',
    accessKeyId: TestS3Server.accessKeyId,
    secretAccessKey: 'secret',
    forcePathStyle: true,
  });
  try {
    const rss = await backUpLargeSource(store, recipient);
    await annotate(`RSS baseline ${rss.baselineMb} MB, peak ${rss.peakMb} MB, growth ${rss.peakGrowthMb} MB`);
    expect(rss.peakGrowthMb).toBeLessThan(MAX_RSS_GROWTH_MB);
  } finally {
    store.close();
  }
});
