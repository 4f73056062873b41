import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { extract as tarExtract, pack as tarPack, type Pack } from 'tar-stream';
import { createEncrypter, encryptingStream, type BackupEncryption } from './age-stream';
import { addEntry, ENTRY_TYPES, isSafeRelativePath, MANIFEST_NAME, normalizePrefix, type TarHeader } from './tar-entries';

export { BackupArchiveError, type BackupProblem } from './backup-archive-error';
export type { BackupDecryption, BackupEncryption } from './age-stream';
export { unpackBackup, verifyBackup, type BackupEntry, type BackupSummary } from './backup-unpack';

/**
 * A tar stream whose entries share one top-level directory, as Docker's
 * `GET /containers/{id}/archive?path=/data` returns (`data/…`). Its entries go into the backup
 * under `prefix` instead of that directory.
 */
export interface BackupSource {
  /** e.g. `volumes/<volume-name>/`; no prefix may contain another. */
  prefix: string;
  /** The tar stream, or a function that opens it when its turn comes (so one source is open at a time). */
  tar: Readable | (() => Promise<Readable>);
}

export interface BackupContents {
  /** Written first, as `manifest.json`. */
  manifest: Record<string, unknown>;
  sources: readonly BackupSource[];
}

export interface PackOptions {
  /** Without it the archive is only compressed. */
  encryption?: BackupEncryption;
  /** gzip level 0–9; zlib's default (6) when unset. */
  compressionLevel?: number;
}

/**
 * The backup as one stream: tar (manifest, then each source in turn) → gzip → age when
 * `encryption` is set. Nothing is buffered beyond stream chunks: a source is read only as fast
 * as the returned stream is. A bad encryption option or prefix throws here; a failing source
 * errors the returned stream. Destroying the returned stream stops everything and closes the
 * open source (and the ones given as streams that were not read yet).
 */
export function packBackup(contents: BackupContents, options: PackOptions = {}): Readable {
  const prefixes = contents.sources.map((source) => normalizePrefix(source.prefix));
  for (const [index, prefix] of prefixes.entries()) {
    const clash = prefixes.find((other, otherIndex) => otherIndex !== index && other.startsWith(prefix));
    if (clash !== undefined) throw new Error(`Source prefixes overlap: "${prefix}" and "${clash}"`);
  }
  const manifest = Buffer.from(`${JSON.stringify(contents.manifest, null, 2)}\n`);
  const encrypter = options.encryption === undefined ? undefined : createEncrypter(options.encryption);
  const compressionLevel = options.compressionLevel ?? zlibConstants.Z_DEFAULT_COMPRESSION;

  const output = new PassThrough();
  const run = async () => {
    const encryption = encrypter === undefined ? [] : [await encryptingStream(encrypter)];
    const pack = tarPack();
    const filling = fillArchive(pack, manifest, contents.sources, prefixes).catch((error: unknown) => {
      pack.destroy(asError(error));
      throw error;
    });
    // gzip runs on a worker thread, one chunk at a time: fed 16–64 KiB tar chunks it waits on the
    // main thread between each; 4 MiB blocks keep it busy (measured in BENCHMARKS.md).
    const gzip = createGzip({ level: compressionLevel, chunkSize: GZIP_OUTPUT_CHUNK });
    await Promise.all([filling, pipeline(Readable.from(pack), coalesce(GZIP_INPUT_BLOCK), gzip, ...encryption, output)]);
  };
  run().catch((error: unknown) => {
    // Sources handed over already open (e.g. HTTP responses) must not stay open after a failure.
    for (const source of contents.sources) {
      if (typeof source.tar !== 'function') source.tar.destroy();
    }
    output.destroy(asError(error));
  });
  return output;
}

const GZIP_INPUT_BLOCK = 4 * 1024 * 1024;
const GZIP_OUTPUT_CHUNK = 1024 * 1024;

/** Joins small chunks into blocks of at least `size` bytes (the last one may be shorter). */
function coalesce(size: number): Transform {
  let parts: Buffer[] = [];
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      length += chunk.length;
      if (length < size) return callback();
      const joined = Buffer.concat(parts, length);
      parts = [];
      length = 0;
      callback(null, joined);
    },
    flush(callback) {
      if (length > 0) this.push(Buffer.concat(parts, length));
      callback();
    },
  });
}

async function fillArchive(pack: Pack, manifest: Buffer, sources: readonly BackupSource[], prefixes: string[]): Promise<void> {
  await addEntry(pack, { name: MANIFEST_NAME, type: 'file', mode: 0o644, mtime: new Date(), size: manifest.length }, manifest);
  for (const [index, { tar }] of sources.entries()) {
    const stream = typeof tar === 'function' ? await tar() : tar;
    try {
      await repackSource(pack, stream, prefixes[index]);
    } finally {
      stream.destroy();
    }
  }
  pack.finalize();
}

/** Copies one source tar into `pack` under `prefix`, its first path component replaced by the prefix. */
async function repackSource(pack: Pack, source: Readable, prefix: string): Promise<void> {
  const extract = tarExtract();
  const feeding = pipeline(source, extract);
  let topLevel: string | undefined;
  // Docker names entries after the copied directory (`data/…`); Podman 4 does so for running
  // containers only, and roots the archive at `/` for stopped ones (`/`, `/x/f`): both are read.
  let rooted: boolean | undefined;
  let rootWritten = false;
  const writeRoot = async (from?: TarHeader) => {
    await addEntry(pack, { ...copiedHeader(from), name: prefix, type: 'directory', mode: from?.mode ?? 0o755 });
    rootWritten = true;
  };
  try {
    for await (const entry of extract) {
      const header = entry.header as TarHeader;
      rooted ??= header.name.startsWith('/');
      const { first, rest } = rooted ? { first: '', rest: header.name.replace(/^\/+/, '') } : splitFirstComponent(header.name);
      topLevel ??= first;
      if (first !== topLevel) {
        throw new Error(`Source for ${prefix}: entries under more than one top-level directory ("${topLevel}" and "${first}")`);
      }
      if (!ENTRY_TYPES.has(header.type)) throw new Error(`Source for ${prefix}: unsupported entry type ${header.type} (${header.name})`);
      if (rest === '') {
        if (header.type !== 'directory') throw new Error(`Source for ${prefix}: the top-level entry "${header.name}" is not a directory`);
        await writeRoot(header);
        continue;
      }
      if (!isSafeRelativePath(rest)) throw new Error(`Source for ${prefix}: unsafe entry name "${header.name}"`);
      if (!rootWritten) await writeRoot();
      await addEntry(pack, repackedHeader(header, prefix, rest), isRegularFile(header) ? entry : undefined);
    }
    await feeding;
  } catch (error) {
    extract.destroy();
    await feeding.catch(() => undefined);
    throw error;
  }
  if (!rootWritten) await writeRoot();
}

function repackedHeader(header: TarHeader, prefix: string, rest: string): TarHeader {
  const name = `${prefix}${rest}${header.type === 'directory' && !rest.endsWith('/') ? '/' : ''}`;
  let linkname = header.linkname ?? undefined;
  if (header.type === 'link' && linkname) {
    // A hard link names another entry of the same archive: it moves with the entries.
    const target = linkname.startsWith('/') ? linkname.replace(/^\/+/, '') : splitFirstComponent(linkname).rest;
    if (!isSafeRelativePath(target)) throw new Error(`Source for ${prefix}: unsafe hard link target "${linkname}"`);
    linkname = `${prefix}${target}`;
  }
  return {
    ...copiedHeader(header),
    name,
    type: header.type === 'contiguous-file' ? 'file' : header.type,
    mode: header.mode ?? 0,
    size: isRegularFile(header) ? header.size : 0,
    linkname,
    devmajor: header.devmajor,
    devminor: header.devminor,
  };
}

/** Ownership, times and the PAX records (xattrs, sub-second times). */
function copiedHeader(header: TarHeader | undefined): Omit<TarHeader, 'name'> {
  if (header === undefined) return { mtime: new Date() };
  const { uid, gid, uname, gname, mtime, pax } = header;
  return { uid, gid, uname, gname, mtime, pax };
}

function isRegularFile(header: TarHeader): boolean {
  return header.type === 'file' || header.type === 'contiguous-file';
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function splitFirstComponent(name: string): { first: string; rest: string } {
  const trimmed = name.replace(/^(\.?\/)+/, '');
  const slash = trimmed.indexOf('/');
  if (slash === -1) return { first: trimmed, rest: '' };
  return { first: trimmed.slice(0, slash), rest: trimmed.slice(slash + 1) };
}
