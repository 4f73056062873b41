import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, lstat, mkdir, readdir, readFile, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { pack as tarPack } from 'tar-stream';

export const run = promisify(execFile);

/** Runs a shell pipeline (bash, pipefail) and rejects with its stderr when any command fails. */
export async function shell(script: string, cwd?: string): Promise<string> {
  const { stdout } = await run('bash', ['-o', 'pipefail', '-c', script], { cwd, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

const OLD_TIME = new Date('2001-02-03T04:05:06Z');

/**
 * A volume's worth of small things under `<parent>/data`: nested directories, empty and odd-mode
 * files, a symlink, a dangling symlink, a hard link, a long and a non-ASCII name, old mtimes.
 */
export async function makeSmallFilesTree(parent: string): Promise<void> {
  const root = join(parent, 'data');
  for (let d = 0; d < 12; d++) {
    const directory = join(root, `dir-${d}`, d % 2 === 0 ? 'nested/deeper' : '');
    await mkdir(directory, { recursive: true });
    for (let f = 0; f < 25; f++) {
      await writeFile(join(directory, `file-${f}.bin`), randomBytes((d * 25 + f) * 37));
    }
  }
  await mkdir(join(root, 'empty-dir'), { mode: 0o700 });
  await chmod(join(root, 'empty-dir'), 0o700);
  await writeFile(join(root, 'secret.txt'), 'only the owner\n');
  await chmod(join(root, 'secret.txt'), 0o600);
  await writeFile(join(root, 'no-access.txt'), 'mode 000\n');
  await chmod(join(root, 'no-access.txt'), 0o000);
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'run.sh'), 0o755);
  await writeFile(join(root, 'empty-file'), '');
  await writeFile(join(root, 'données-é.txt'), 'non-ASCII name\n');
  const longDirectory = join(root, 'a-rather-long-directory-name-to-go-past-the-ustar-limit'.repeat(2));
  await mkdir(longDirectory);
  await writeFile(join(longDirectory, 'with-a-long-file-name-as-well-so-that-pax-records-are-needed.txt'), 'long\n');
  await symlink('dir-1/file-3.bin', join(root, 'link-to-file'));
  await symlink('/nowhere/at/all', join(root, 'dangling-link'));
  await link(join(root, 'dir-1', 'file-4.bin'), join(root, 'hard-link.bin'));
  await utimes(join(root, 'secret.txt'), OLD_TIME, OLD_TIME);
  await utimes(join(root, 'dir-3'), OLD_TIME, OLD_TIME);
  await utimes(root, OLD_TIME, OLD_TIME);
}

/** `<parent>/data/big.bin`: `size` bytes of random data, written as a stream. */
export async function makeLargeFileTree(parent: string, size: number): Promise<void> {
  await mkdir(join(parent, 'data'), { recursive: true });
  await pipeline(randomStream(size), createWriteStream(join(parent, 'data', 'big.bin')));
}

/**
 * Incompressible bytes, cheaply: one random MiB over and over in fresh 64 KiB chunks (gzip's
 * 32 KiB window cannot see the repetition).
 */
export function randomStream(size: number): Readable {
  const block = randomBytes(1024 * 1024);
  const chunkSize = 64 * 1024;
  let produced = 0;
  return new Readable({
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const length = Math.min(chunkSize, size - produced);
      const offset = produced % block.length;
      produced += length;
      this.push(Buffer.from(block.subarray(offset, offset + length)));
    },
  });
}

/**
 * What Docker's archive endpoint returns for `path=/data`, made by GNU tar: entries `data/…`.
 * `pax` is the format Docker's (Go's) tar writer uses for long names; `gnu` is GNU tar's own.
 */
export function tarOf(parent: string, format: 'gnu' | 'pax' = 'gnu'): Readable {
  const tar = spawn('tar', [`--format=${format}`, '-C', parent, '-cf', '-', 'data'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new PassThrough();
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  tar.stdout.pipe(output, { end: false });
  tar.on('close', (code) => {
    if (code === 0) output.end();
    else output.destroy(new Error(`tar exited with ${code}: ${stderr}`));
  });
  output.on('close', () => tar.kill());
  return output;
}

/** A tar stream of one file `data/big.bin` of `size` incompressible bytes, generated on the fly. */
export function generatedTar(size: number): Readable {
  const pack = tarPack();
  const sink = pack.entry({ name: 'data/big.bin', size, mode: 0o644, mtime: OLD_TIME });
  void pipeline(randomStream(size), sink).then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error as Error),
  );
  return Readable.from(pack);
}

export interface TreeEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  mtime: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/** Every entry under `root` with what a restore must keep (the root itself as ''). */
export async function snapshot(root: string): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  const visit = async (relative: string) => {
    const path = join(root, relative);
    const stats = await lstat(path);
    const base = { mode: stats.mode & 0o7777, mtime: Math.floor(stats.mtimeMs / 1000) };
    if (stats.isSymbolicLink()) {
      // A symlink's own mtime is not restored by every tar; its target is what matters.
      entries.set(relative, { type: 'symlink', mode: 0, mtime: 0, target: await readlink(path) });
    } else if (stats.isDirectory()) {
      entries.set(relative, { type: 'directory', ...base });
      for (const name of (await readdir(path)).sort()) await visit(relative === '' ? name : `${relative}/${name}`);
    } else {
      entries.set(relative, { type: 'file', ...base, size: stats.size, sha256: await sha256File(path) });
    }
  };
  await visit('');
  return entries;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** An X25519 identity file made by `age-keygen`, and its recipient. */
export async function ageKeygen(path: string): Promise<string> {
  await run('age-keygen', ['-o', path]);
  const text = await readFile(path, 'utf8');
  const recipient = /# public key: (age1\S+)/.exec(text)?.[1];
  if (recipient === undefined) throw new Error(`no public key in ${path}`);
  return recipient;
}

/** Samples RSS every few milliseconds; `peakGrowth` is the highest RSS seen minus the RSS at start. */
export class RssSampler {
  private readonly baseline = process.memoryUsage().rss;
  private peak = this.baseline;
  private readonly timer = setInterval(() => {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }, 10);

  stop(): { baselineMb: number; peakMb: number; peakGrowthMb: number } {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    return { baselineMb: mb(this.baseline), peakMb: mb(this.peak), peakGrowthMb: mb(this.peak - this.baseline) };
  }
}
