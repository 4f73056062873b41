import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptStream } from '../../src/backups/archive/age-stream';
import { BackupArchiveError, packBackup, unpackBackup, verifyBackup, type BackupEntry } from '../../src/backups/archive/backup-archive';
import { BackupNotFoundError, BackupStoreError } from '../../src/backups/storage/backup-store';
import { LocalBackupStore } from '../../src/backups/storage/local-store';
import { ageKeygen, generatedTar, makeLargeFileTree, makeSmallFilesTree, sha256File, shell, snapshot, tarOf } from './support/fixtures';

const LARGE_FILE = 64 * 1024 * 1024;

describe('backup archive in a local store', () => {
  let work: string;
  let small: string;
  let large: string;
  let store: LocalBackupStore;
  const keys = { first: '', second: '', stranger: '' };
  const recipients: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'backup-local-'));
    small = join(work, 'small');
    large = join(work, 'large');
    await makeSmallFilesTree(small);
    await makeLargeFileTree(large, LARGE_FILE);
    for (const name of ['first', 'second', 'stranger'] as const) {
      keys[name] = join(work, `${name}.key`);
      const recipient = await ageKeygen(keys[name]);
      if (name !== 'stranger') recipients.push(recipient);
    }
    store = new LocalBackupStore({ directory: join(work, 'store') });
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const manifest = { project: 'demo', type: 'full', volumes: ['app-data', 'big'], containers: [{ name: 'demo-db-1' }] };

  /** Both sources opened lazily; the second may only open once the first was read to its end. */
  function twoSourceArchive(): { archive: Readable; order: string[] } {
    const order: string[] = [];
    const archive = packBackup(
      {
        manifest,
        sources: [
          {
            prefix: 'volumes/app-data/',
            tar: async () => {
              order.push('open app-data');
              return tarOf(small, 'pax').on('end', () => order.push('end app-data'));
            },
          },
          {
            prefix: 'volumes/big',
            tar: async () => {
              order.push('open big');
              return tarOf(large);
            },
          },
        ],
      },
      { encryption: { recipients } },
    );
    return { archive, order };
  }

  let stored: { key: string; location: string; size: number; sha256: string };

  it('packs a manifest and two sources, encrypted to two recipients; age and tar restore them byte for byte', async () => {
    const { archive, order } = twoSourceArchive();
    const key = 'demo/2026-11-29T10-00-00Z-full.tar.gz.age';
    const result = await store.write(key, archive, new AbortController().signal);
    stored = { key, ...result };

    expect(order).toEqual(['open app-data', 'end app-data', 'open big']);
    expect(result.location).toBe(join(work, 'store', 'demo', '2026-11-29T10-00-00Z-full.tar.gz.age'));
    const stats = await stat(result.location);
    expect(stats.size).toBe(result.size);
    expect(stats.mode & 0o777).toBe(0o600);
    expect(await sha256File(result.location)).toBe(result.sha256);
    expect(result.size).toBeGreaterThan(LARGE_FILE);
    expect(await readdir(join(work, 'store', 'demo'))).toEqual(['2026-11-29T10-00-00Z-full.tar.gz.age']);

    // Debian's age CLI and the library decrypt it to the same bytes.
    const cliPlaintext = (await shell(`age -d -i '${keys.second}' '${result.location}' | sha256sum`)).slice(0, 64);
    const libraryPlaintext = createHash('sha256');
    for await (const chunk of await decryptStream(createReadStream(result.location), { identityFile: keys.first })) {
      libraryPlaintext.update(chunk as Buffer);
    }
    expect(libraryPlaintext.digest('hex')).toBe(cliPlaintext);

    // The second recipient's identity opens it with the CLI; GNU tar unpacks it.
    const restored = join(work, 'restored-cli');
    await mkdir(restored);
    await shell(`age -d -i '${keys.second}' '${result.location}' | tar -xz -C '${restored}'`);
    expect(JSON.parse(await readFile(join(restored, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(await snapshot(join(restored, 'volumes', 'app-data'))).toEqual(await snapshot(join(small, 'data')));
    expect(await snapshot(join(restored, 'volumes', 'big'))).toEqual(await snapshot(join(large, 'data')));
    const hardLink = await stat(join(restored, 'volumes', 'app-data', 'hard-link.bin'));
    expect(hardLink.ino).toBe((await stat(join(restored, 'volumes', 'app-data', 'dir-1', 'file-4.bin'))).ino);
    expect((await readdir(restored)).sort()).toEqual(['manifest.json', 'volumes']);
  });

  it('unpacks the stored backup entry by entry: manifest first, then each source under its prefix', async () => {
    const entries: Array<Exclude<BackupEntry, { kind: 'manifest' }>> = [];
    let first: BackupEntry | undefined;
    for await (const entry of unpackBackup(await store.read(stored.key), { identityFile: keys.first })) {
      first ??= entry;
      if (entry.kind === 'manifest') continue;
      entries.push(entry);
      if (entry.path === 'big.bin') {
        const chunks: Buffer[] = [];
        for await (const chunk of entry.stream) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).length).toBe(LARGE_FILE);
      }
      // Other entries' data is left unread on purpose: the unpacker reads past it.
    }
    expect(first).toEqual({ kind: 'manifest', manifest, encrypted: true });
    expect([...new Set(entries.map((entry) => entry.prefix))]).toEqual(['volumes/app-data/', 'volumes/big/']);
    expect(entries[0]).toMatchObject({ prefix: 'volumes/app-data/', path: '', header: { type: 'directory' } });
    const symlink = entries.find((entry) => entry.path === 'link-to-file');
    expect(symlink?.header).toMatchObject({ type: 'symlink', linkname: 'dir-1/file-3.bin' });
    // GNU tar stores whichever of the two names it meets second as a link to the first.
    const linked = entries.filter((entry) => ['hard-link.bin', 'dir-1/file-4.bin'].includes(entry.path));
    const hardLink = linked.find((entry) => entry.header.type === 'link');
    const target = linked.find((entry) => entry.header.type === 'file');
    expect(hardLink?.header.linkname).toBe(`volumes/app-data/${target?.path}`);
    const secret = entries.find((entry) => entry.path === 'secret.txt');
    expect(secret?.header.mode).toBe(0o600);
    expect(secret?.header.mtime).toEqual(new Date('2001-02-03T04:05:06Z'));
    expect(entries.find((entry) => entry.path === 'no-access.txt')?.header.mode).toBe(0);

    const sourceEntries = (await snapshot(join(small, 'data'))).size + (await snapshot(join(large, 'data'))).size;
    expect(entries).toHaveLength(sourceEntries);
  });

  it('verifies the stored backup: checksum, decryption, gunzip and every tar entry', async () => {
    const summary = await verifyBackup(await store.read(stored.key), stored.sha256, { identityFile: keys.first });
    expect(summary).toMatchObject({ size: stored.size, sha256: stored.sha256, encrypted: true, manifest });
    expect(summary.contentBytes).toBeGreaterThan(LARGE_FILE);
  });

  describe('verifyBackup names what is wrong', () => {
    let path: string;
    let sha256: string;
    const problemOf = async (source: Readable, expected: string, decryption: { identityFile?: string; passphrase?: string }) => {
      const error = await verifyBackup(source, expected, decryption).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(BackupArchiveError);
      return error as BackupArchiveError;
    };

    beforeAll(async () => {
      const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/app-data', tar: tarOf(small) }] }, { encryption: { recipients } });
      ({ location: path, sha256 } = await store.write('demo/small.tar.gz.age', archive, new AbortController().signal));
    });

    it('a wrong identity', async () => {
      const error = await problemOf(await store.read('demo/small.tar.gz.age'), sha256, { identityFile: keys.stranger });
      expect(error.problem).toBe('wrong-key');
      expect(error.message).toMatch(/Wrong identity or passphrase/);
    });

    it('no key for an encrypted backup', async () => {
      const error = await problemOf(await store.read('demo/small.tar.gz.age'), sha256, {});
      expect(error.problem).toBe('key-missing');
    });

    it('a flipped byte (checksum mismatch, before what it breaks further down)', async () => {
      const bytes = await readFile(path);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      const error = await problemOf(Readable.from([bytes]), sha256, { identityFile: keys.first });
      expect(error.problem).toBe('checksum-mismatch');
      expect(error.message).toContain(`expected ${sha256}`);
      expect(error.message).toMatch(/reading it fails too: .*corrupt or truncated/);

      // With the checksum of the damaged bytes, decryption's authentication catches it.
      const damaged = join(work, 'damaged.age');
      await writeFile(damaged, bytes);
      const undetected = await problemOf(Readable.from([bytes]), await sha256File(damaged), { identityFile: keys.first });
      expect(undetected.problem).toBe('corrupt-encryption');
    });

    it('a truncated object', async () => {
      const truncated = join(work, 'truncated.age');
      await copyFile(path, truncated);
      await truncate(truncated, (await stat(path)).size - 1000);
      const error = await problemOf(createReadStream(truncated), sha256, { identityFile: keys.first });
      expect(error.problem).toBe('checksum-mismatch');

      const undetected = await problemOf(createReadStream(truncated), await sha256File(truncated), { identityFile: keys.first });
      expect(undetected.problem).toBe('corrupt-encryption');
      expect(undetected.message).toMatch(/corrupt or truncated/);
    });

    it('corrupt gzip, corrupt tar and a tar without manifest, unencrypted', async () => {
      const gzipPath = join(work, 'plain.tar.gz');
      await store.write('demo/plain.tar.gz', packBackup({ manifest, sources: [] }), new AbortController().signal);
      await copyFile(join(work, 'store', 'demo', 'plain.tar.gz'), gzipPath);
      expect(await verifyBackup(Readable.from([await readFile(gzipPath)]), await sha256File(gzipPath))).toMatchObject({
        encrypted: false,
        manifest,
        entries: 0,
      });

      const bytes = await readFile(gzipPath);
      bytes[bytes.length - 5] ^= 0xff; // inside the gzip trailer's length/CRC
      await writeFile(gzipPath, bytes);
      expect((await problemOf(Readable.from([bytes]), await sha256File(gzipPath), {})).problem).toBe('corrupt-gzip');

      await writeFile(join(work, 'garbage'), Buffer.alloc(4096, 'not a tar header '));
      await shell(`gzip -c garbage > garbage.gz`, work);
      const garbage = join(work, 'garbage.gz');
      expect((await problemOf(Readable.from([await readFile(garbage)]), await sha256File(garbage), {})).problem).toBe('corrupt-tar');

      await shell(`tar -C '${small}' -czf no-manifest.tar.gz data`, work);
      const noManifest = join(work, 'no-manifest.tar.gz');
      const error = await problemOf(Readable.from([await readFile(noManifest)]), await sha256File(noManifest), {});
      expect(error.problem).toBe('invalid-layout');
      expect(error.message).toContain('not manifest.json');
    });
  });

  it('encrypts to a passphrase: the library and the age CLI (on a pseudo-terminal) decrypt it', async () => {
    const passphrase = 'correct horse battery staple 42';
    const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/app-data/', tar: tarOf(small) }] }, { encryption: { passphrase, scryptWorkFactor: 16 } });
    const result = await store.write('demo/passphrase.tar.gz.age', archive, new AbortController().signal);

    const summary = await verifyBackup(await store.read('demo/passphrase.tar.gz.age'), result.sha256, { passphrase });
    expect(summary).toMatchObject({ encrypted: true, manifest });
    const wrong = await verifyBackup(await store.read('demo/passphrase.tar.gz.age'), result.sha256, { passphrase: 'nope' }).catch(
      (error: unknown) => error,
    );
    expect(wrong).toMatchObject({ problem: 'wrong-key' });
    // An identity does not open a passphrase-encrypted file, and the other way round.
    const identityInstead = await verifyBackup(await store.read('demo/passphrase.tar.gz.age'), result.sha256, {
      identityFile: keys.first,
    }).catch((error: unknown) => error);
    expect(identityInstead).toMatchObject({ problem: 'wrong-key' });

    const restored = join(work, 'restored-passphrase');
    await mkdir(restored);
    // Debian's age reads a passphrase only from a terminal: `script` gives it one, fed from stdin.
    await shell(`printf '%s\\n' '${passphrase}' | script -qec "age -d -o '${restored}/backup.tar.gz' '${result.location}'" /dev/null >/dev/null`);
    await shell(`tar -xzf backup.tar.gz`, restored);
    expect(await snapshot(join(restored, 'volumes', 'app-data'))).toEqual(await snapshot(join(small, 'data')));
  });

  it('an abort during a write rejects and leaves no file, temporary or final', async () => {
    const controller = new AbortController();
    const source = generatedTar(256 * 1024 * 1024);
    const archive = packBackup({ manifest, sources: [{ prefix: 'volumes/big/', tar: source }] }, { compressionLevel: 1 });
    const writing = store.write('aborted/backup.tar.gz', archive, controller.signal);
    // Abort once the temporary file holds 16 MiB.
    const directory = join(work, 'store', 'aborted');
    for (;;) {
      const names = await readdir(directory).catch(() => []);
      const temporary = names.find((name) => name.startsWith('.backup.tar.gz.partial-'));
      if (temporary !== undefined && (await stat(join(directory, temporary))).size > 16 * 1024 * 1024) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    controller.abort();
    await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
    expect(archive.destroyed).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
    expect(await readdir(directory)).toEqual([]);
    await expect(store.read('aborted/backup.tar.gz')).rejects.toBeInstanceOf(BackupNotFoundError);
  });

  it('a source that fails rejects the write, leaves no file and closes the sources not read yet', async () => {
    const notYetRead = new PassThrough();
    const archive = packBackup({
      manifest,
      sources: [
        { prefix: 'volumes/app-data/', tar: tarOf(small) },
        { prefix: 'volumes/missing/', tar: async () => tarOf(join(work, 'does-not-exist')) },
        { prefix: 'volumes/later/', tar: notYetRead },
      ],
    });
    await expect(store.write('failed/backup.tar.gz', archive, new AbortController().signal)).rejects.toThrow(/tar exited with 2/);
    expect(await readdir(join(work, 'store', 'failed'))).toEqual([]);
    expect(notYetRead.destroyed).toBe(true);
  });

  it('refuses keys that leave the directory or collide with temporary files, and bad options', async () => {
    for (const key of ['../escape', '/absolute', 'a//b', 'a/.hidden', '', 'a\\b']) {
      await expect(store.write(key, Readable.from([]), new AbortController().signal)).rejects.toBeInstanceOf(BackupStoreError);
    }
    expect(() => packBackup({ manifest, sources: [{ prefix: '../x', tar: Readable.from([]) }] })).toThrow(/Invalid source prefix/);
    expect(() =>
      packBackup({ manifest, sources: [{ prefix: 'volumes/a', tar: Readable.from([]) }, { prefix: 'volumes/a/b', tar: Readable.from([]) }] }),
    ).toThrow(/overlap/);
    expect(() => packBackup({ manifest, sources: [] }, { encryption: { recipients: ['age1notakey'] } })).toThrow(/X25519 recipient/);
    await store.delete('demo/never-written');
  });
});
