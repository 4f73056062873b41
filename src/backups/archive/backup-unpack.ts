import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { AGE_HEADER, decryptStream, type BackupDecryption } from './age-stream';
import { BackupArchiveError, errorMessage, type BackupProblem } from './backup-archive-error';
import { ENTRY_TYPES, isSafeRelativePath, MANIFEST_NAME, type TarHeader } from './tar-entries';

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export type BackupEntry =
  | { kind: 'manifest'; manifest: Record<string, unknown>; encrypted: boolean }
  | {
      kind: 'entry';
      /** The source's prefix, e.g. `volumes/db/`. */
      prefix: string;
      /** Inside the prefix; '' for the source's own directory. */
      path: string;
      header: TarHeader;
      /** The file's bytes (empty for anything but a regular file). */
      stream: Readable;
    };

/**
 * The entries of a backup that `packBackup` wrote: the manifest first, then every source's
 * entries with their prefix. Decrypts (when the stream is an age file), gunzips and parses as
 * it goes, so a problem shows up only when reading reaches it: restore must run through the
 * whole archive (or `verifyBackup`) before it changes anything. Each entry's stream should be
 * read before asking for the next entry; whatever is left unread is read and dropped then.
 * Destroying an entry's stream abandons the whole archive. Failures are `BackupArchiveError`s.
 */
export async function* unpackBackup(source: Readable, decryption: BackupDecryption = {}): AsyncGenerator<BackupEntry, void, undefined> {
  let readError: unknown;
  let failure: BackupArchiveError | undefined;
  const classify = (error: unknown, problem: BackupProblem, what: string): BackupArchiveError => {
    if (error instanceof BackupArchiveError) return error;
    if (readError !== undefined && error === readError) {
      return new BackupArchiveError('read-failed', `Reading the backup failed: ${errorMessage(error)}`);
    }
    return new BackupArchiveError(problem, `${what}: ${errorMessage(error)}`);
  };
  const recordFailure = (problem: BackupProblem, what: string) => (error: unknown) => {
    failure ??= classify(error, problem, what);
  };
  source.on('error', (error) => (readError ??= error));

  let plain: Readable;
  let encrypted: boolean;
  try {
    const { head, stream } = await peek(source, AGE_HEADER.length);
    encrypted = head.equals(AGE_HEADER);
    plain = encrypted ? await decryptStream(stream, decryption) : stream;
  } catch (error) {
    source.destroy();
    throw classify(error, 'read-failed', 'Reading the backup failed');
  }
  const gunzip = createGunzip();
  const extract = tarExtract();
  // Registered before pipeline's own listeners, so the stage that failed first names the problem.
  plain.on('error', recordFailure('read-failed', 'Reading the backup failed'));
  gunzip.on('error', recordFailure('corrupt-gzip', 'The gzip data is corrupt or truncated'));
  extract.on('error', recordFailure('corrupt-tar', 'The tar data is corrupt or truncated'));
  const feeding = pipeline(plain, gunzip, extract);
  feeding.catch(() => undefined);

  let manifestSeen = false;
  let prefix: string | undefined;
  try {
    for await (const entry of extract) {
      const header = entry.header as TarHeader;
      if (!manifestSeen) {
        yield { kind: 'manifest', manifest: await readManifest(header, entry), encrypted };
        manifestSeen = true;
        continue;
      }
      checkEntry(header);
      if (prefix === undefined || !header.name.startsWith(prefix)) {
        // Every source starts with its own directory, so a directory outside the current one starts the next source.
        if (header.type !== 'directory') {
          throw new BackupArchiveError('invalid-layout', `The entry "${header.name}" is outside every source directory`);
        }
        prefix = header.name.endsWith('/') ? header.name : `${header.name}/`;
      }
      if (header.type === 'link' && !header.linkname?.startsWith(prefix)) {
        throw new BackupArchiveError('invalid-layout', `The hard link "${header.name}" points outside its source`);
      }
      const stream = Readable.from(entry, { objectMode: false });
      yield { kind: 'entry', prefix, path: header.name.slice(prefix.length), header, stream };
      // tar-stream parses the next header only once this entry's data has been read.
      if (!stream.readableEnded) await finished(stream.resume());
    }
    await feeding;
  } catch (error) {
    throw failure ?? classify(error, 'corrupt-tar', 'The tar data is corrupt or truncated');
  } finally {
    // Also when the caller stops early: nothing stays open.
    extract.destroy();
    plain.destroy();
    source.destroy();
  }
  if (!manifestSeen) throw new BackupArchiveError('invalid-layout', 'The archive is empty: it has no manifest.json');
}

export interface BackupSummary {
  /** Of the stored bytes. */
  size: number;
  sha256: string;
  encrypted: boolean;
  manifest: Record<string, unknown>;
  /** Tar entries after the manifest. */
  entries: number;
  /** Bytes of regular files after the manifest, uncompressed. */
  contentBytes: number;
}

/**
 * Reads a stored backup to the end — SHA-256 of the stored bytes, decryption, gunzip, every tar
 * entry — and writes nothing. Rejects with a `BackupArchiveError` whose `problem` says what is
 * wrong; a checksum mismatch wins over what it causes further down (the stored bytes are then
 * read to the end for the checksum even after decryption or unpacking failed).
 */
export async function verifyBackup(source: Readable, expectedSha256: string, decryption: BackupDecryption = {}): Promise<BackupSummary> {
  if (!/^[0-9a-f]{64}$/i.test(expectedSha256)) throw new TypeError('expectedSha256 must be 64 hexadecimal digits');
  const hash = createHash('sha256');
  let size = 0;
  const unpacked = new PassThrough();
  const reading = readEverything(unpackBackup(unpacked, decryption)).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      // Once unpacking failed, `unpacked` is destroyed and the rest is only hashed.
      if (!unpacked.destroyed && !unpacked.write(chunk)) await drainedOrClosed(unpacked);
    }
  } catch (error) {
    unpacked.destroy();
    await reading;
    throw new BackupArchiveError('read-failed', `Reading the backup failed after ${size} bytes: ${errorMessage(error)}`);
  }
  unpacked.end();
  const outcome = await reading;
  const sha256 = hash.digest('hex');
  if (sha256 !== expectedSha256.toLowerCase()) {
    const consequence = 'error' in outcome ? `; reading it fails too: ${errorMessage(outcome.error)}` : '';
    throw new BackupArchiveError(
      'checksum-mismatch',
      `Checksum mismatch: the stored backup (${size} bytes) has SHA-256 ${sha256}, expected ${expectedSha256.toLowerCase()}${consequence}`,
    );
  }
  if ('error' in outcome) throw outcome.error;
  return { size, sha256, ...outcome.result };
}

async function readEverything(entries: AsyncIterable<BackupEntry>): Promise<Omit<BackupSummary, 'size' | 'sha256'>> {
  let manifest: Record<string, unknown> = {};
  let encrypted = false;
  let count = 0;
  let contentBytes = 0;
  for await (const entry of entries) {
    if (entry.kind === 'manifest') {
      ({ manifest, encrypted } = entry);
      continue;
    }
    count++;
    for await (const chunk of entry.stream as AsyncIterable<Buffer>) contentBytes += chunk.length;
  }
  return { manifest, encrypted, entries: count, contentBytes };
}

async function readManifest(header: TarHeader, content: AsyncIterable<Buffer>): Promise<Record<string, unknown>> {
  if (header.name !== MANIFEST_NAME || header.type !== 'file') {
    throw new BackupArchiveError('invalid-layout', `The first entry is "${header.name}", not ${MANIFEST_NAME}`);
  }
  if ((header.size ?? 0) > MAX_MANIFEST_BYTES) {
    throw new BackupArchiveError('invalid-layout', `${MANIFEST_NAME} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(chunk);
  let manifest: unknown;
  try {
    manifest = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new BackupArchiveError('invalid-layout', `${MANIFEST_NAME} is not valid JSON: ${errorMessage(error)}`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new BackupArchiveError('invalid-layout', `${MANIFEST_NAME} is not a JSON object`);
  }
  return manifest as Record<string, unknown>;
}

/** Restore writes these names into volumes: nothing may point outside them. */
function checkEntry(header: TarHeader): void {
  if (!ENTRY_TYPES.has(header.type)) {
    throw new BackupArchiveError('invalid-layout', `Unsupported entry type ${header.type} for "${header.name}"`);
  }
  if (!isSafeRelativePath(header.name)) throw new BackupArchiveError('invalid-layout', `Unsafe entry name "${header.name}"`);
  if (header.type === 'link' && !isSafeRelativePath(header.linkname ?? '')) {
    throw new BackupArchiveError('invalid-layout', `Unsafe hard link target "${header.linkname}" for "${header.name}"`);
  }
}

/** Reads the first `length` bytes (fewer if the stream is shorter) and gives back the whole stream. */
async function peek(source: Readable, length: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < length) {
    const next = await iterator.next();
    if (next.done === true) break;
    chunks.push(next.value);
    size += next.value.length;
  }
  const buffered = Buffer.concat(chunks);
  async function* everything(): AsyncGenerator<Buffer> {
    try {
      if (buffered.length > 0) yield buffered;
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
  }
  return { head: buffered.subarray(0, length), stream: Readable.from(everything(), { objectMode: false }) };
}

function drainedOrClosed(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      stream.off('drain', settle);
      stream.off('close', settle);
      resolve();
    };
    stream.on('drain', settle);
    stream.on('close', settle);
  });
}
