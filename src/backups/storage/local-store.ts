import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupNotFoundError, BackupStoreError, checkKey, type BackupStore, type StoredObject } from './backup-store';
import { DigestStream } from './content-digest';

export interface LocalBackupStoreOptions {
  directory: string;
}

/**
 * Backups as files under one directory (mode 0600, directories 0700). A write goes to a
 * temporary file beside the target (`.<name>.partial-<random>`), is fsync'd, read back and
 * compared, and only then renamed into place.
 */
export class LocalBackupStore implements BackupStore {
  readonly destination = 'local';
  private readonly directory: string;

  constructor(options: LocalBackupStoreOptions) {
    this.directory = resolve(options.directory);
  }

  async write(key: string, source: Readable, signal: AbortSignal): Promise<StoredObject> {
    let target: string | undefined;
    let temporary: string | undefined;
    let renamed = false;
    try {
      target = this.pathOf(key);
      temporary = join(dirname(target), `.${basename(target)}.partial-${randomBytes(8).toString('hex')}`);
      signal.throwIfAborted();
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const digest = new DigestStream();
      // `flush` fsyncs before the file is closed, and pipeline resolves only after the close.
      await pipeline(source, digest, createWriteStream(temporary, { flags: 'wx', mode: 0o600, flush: true }), { signal });

      const reread = await digestOfFile(temporary, signal);
      if (reread.size !== digest.byteCount || reread.sha256 !== digest.sha256) {
        throw new BackupStoreError(
          `Verification of ${target} failed: wrote ${digest.byteCount} bytes with SHA-256 ${digest.sha256}, read back ${reread.size} bytes with SHA-256 ${reread.sha256}`,
        );
      }
      signal.throwIfAborted();
      await rename(temporary, target);
      renamed = true;
      await syncDirectory(dirname(target));
      return { location: target, size: digest.byteCount, sha256: digest.sha256 };
    } catch (error) {
      source.destroy();
      const leftOver = renamed ? target : temporary;
      if (leftOver !== undefined) await rm(leftOver, { force: true });
      throw signal.aborted ? signal.reason : error;
    }
  }

  async read(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    try {
      // Opened here so a missing file rejects now rather than erroring the stream later.
      const handle = await open(path, 'r');
      return handle.createReadStream();
    } catch (error) {
      if (isNotFound(error)) throw new BackupNotFoundError(`No backup at ${path}`);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private pathOf(key: string): string {
    checkKey(key);
    return join(this.directory, ...key.split('/'));
  }
}

/** Makes the rename itself durable. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function digestOfFile(path: string, signal: AbortSignal): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    signal.throwIfAborted();
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
