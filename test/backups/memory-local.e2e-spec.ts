import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalBackupStore } from '../../src/backups/storage/local-store';
import { ageKeygen } from './support/fixtures';
import { backUpLargeSource, MAX_RSS_GROWTH_MB } from './support/memory';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'backup-memory-local-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it('backing up a 512 MiB source to a local directory keeps RSS flat', async ({ annotate }) => {
  const recipient = await ageKeygen(join(work, 'key.txt'));
  const rss = await backUpLargeSource(new LocalBackupStore({ directory: join(work, 'store') }), recipient);
  await annotate(`RSS baseline ${rss.baselineMb} MB, peak ${rss.peakMb} MB, growth ${rss.peakGrowthMb} MB`);
  expect(rss.peakGrowthMb).toBeLessThan(MAX_RSS_GROWTH_MB);
});
