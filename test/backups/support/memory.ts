import { expect } from 'vitest';
import { packBackup } from '../../../src/backups/archive/backup-archive';
import type { BackupStore } from '../../../src/backups/storage/backup-store';
import { generatedTar, RssSampler } from './fixtures';

export const SOURCE_SIZE = 512 * 1024 * 1024;
export const MAX_RSS_GROWTH_MB = 150;

/**
 * Packs, encrypts and stores a generated 512 MiB source, sampling RSS all along. Each store is
 * measured in its own test file, so in a fresh process: memory freed by an earlier run would
 * hide growth.
 */
export async function backUpLargeSource(store: BackupStore, recipient: string): Promise<ReturnType<RssSampler['stop']>> {
  const sampler = new RssSampler();
  const archive = packBackup(
    { manifest: { project: 'memory' }, sources: [{ prefix: 'volumes/big/', tar: async () => generatedTar(SOURCE_SIZE) }] },
    // Level 0 (stored blocks) only to keep the test short: gzip's buffers are the same size at
    // every level, and a faster stage pushes harder on the ones after it.
    { encryption: { recipients: [recipient] }, compressionLevel: 0 },
  );
  const stored = await store.write('memory/big.tar.gz.age', archive, new AbortController().signal);
  const rss = sampler.stop();
  expect(stored.size).toBeGreaterThan(SOURCE_SIZE);
  return rss;
}
