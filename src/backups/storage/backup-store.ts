import type { Readable } from 'node:stream';

export interface StoredObject {
  /** Where the object is, in the store's own words: `s3://bucket/key` or an absolute file path. */
  location: string;
  size: number;
  /** Hex SHA-256 of the stored bytes, computed while they streamed by. */
  sha256: string;
}

/**
 * Where backups are kept. Keys are relative paths (`project/2026-11-29T10-00-00Z-abc.tar.gz.age`);
 * a store may put them under its own prefix or directory.
 */
export interface BackupStore {
  readonly destination: 's3' | 'local';
  /**
   * Streams `source` to `key` (replacing what is there) and resolves once the stored object was
   * checked against what the store reports: size and a checksum. On any failure, or when `signal`
   * aborts, it rejects and nothing of the object remains (and `source` is destroyed).
   */
  write(key: string, source: Readable, signal: AbortSignal): Promise<StoredObject>;
  /** Rejects with `BackupNotFoundError` when there is no such object. */
  read(key: string): Promise<Readable>;
  /** Succeeds also when the object is already gone. */
  delete(key: string): Promise<void>;
}

export class BackupStoreError extends Error {
  override readonly name: string = 'BackupStoreError';
}

export class BackupNotFoundError extends BackupStoreError {
  override readonly name = 'BackupNotFoundError';
}

/** Same rules for both stores, so a key valid for one is valid for the other. */
export function checkKey(key: string): void {
  const components = key.split('/');
  const valid =
    key.length > 0 &&
    Buffer.byteLength(key) <= 1000 &&
    ![...key].some((character) => character < ' ' || character === '\x7f' || character === '\\') &&
    // A leading dot is kept for the local store's temporary files.
    components.every((component) => component !== '' && !component.startsWith('.'));
  if (!valid) {
    throw new BackupStoreError(
      `Invalid backup key "${key}": relative path components separated by "/", none empty or starting with "."`,
    );
  }
}
