import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { pack as tarPack, type Pack } from 'tar-stream';
import { unpackBackup, type BackupDecryption } from './archive/backup-archive';
import { addEntry, type TarHeader } from './archive/tar-entries';

/** A mount as the backup's manifest lists it. */
export interface ManifestMount {
  kind: 'volume' | 'bind';
  name: string;
  prefix: string;
  mountedBy: Array<{ container: string; destination: string }>;
}

const HELPER_LABEL = 'io.docker-task-scheduler.restore';
const RESTORE_PATH = '/restore';

/**
 * Replaces the contents of the archive's volumes (and bind mounts) with the backup's, through a
 * short-lived helper container per mount (the helper image, which needs /bin/sh and rm): the
 * mount is emptied, then the archive's entries are written into it with Docker's archive API.
 * The archive must have been verified already: this pass reads it once more and writes as it goes.
 */
export async function restoreMounts(
  docker: Docker,
  helperImage: string,
  mounts: ManifestMount[],
  readArchive: () => Promise<Readable>,
  decryption: BackupDecryption,
  backupId: string,
): Promise<void> {
  const helpers = new Map<string, Docker.Container>();
  try {
    for (const mount of mounts) {
      const helper = await docker.createContainer({
        Image: helperImage,
        Cmd: ['/bin/sh', '-c', `rm -rf ${RESTORE_PATH}/..?* ${RESTORE_PATH}/.[!.]* ${RESTORE_PATH}/*`],
        Labels: { [HELPER_LABEL]: backupId },
        HostConfig: { Binds: [`${mount.name}:${RESTORE_PATH}`], NetworkMode: 'none' },
      });
      helpers.set(mount.prefix, helper);
    }
    for (const [prefix, helper] of helpers) {
      await helper.start();
      const { StatusCode } = (await helper.wait()) as { StatusCode: number };
      if (StatusCode !== 0) throw new Error(`emptying ${prefix} before the restore failed (exit code ${StatusCode})`);
    }

    const uploads = new MountUploads(helpers);
    try {
      for await (const entry of unpackBackup(await readArchive(), decryption)) {
        if (entry.kind === 'manifest') continue;
        const pack = await uploads.packFor(entry.prefix);
        if (entry.path === '') continue;
        const header: TarHeader = { ...entry.header, name: entry.path };
        if (header.type === 'link' && header.linkname) header.linkname = header.linkname.slice(entry.prefix.length);
        await addEntry(pack, header, header.type === 'file' || header.type === 'contiguous-file' ? entry.stream : undefined);
      }
      await uploads.finish();
    } finally {
      uploads.abandon();
    }
  } finally {
    for (const helper of helpers.values()) await helper.remove({ force: true }).catch(() => undefined);
  }
}

/** One archive upload (Docker's `PUT /containers/{id}/archive`) at a time, switching as the archive moves to the next mount. */
class MountUploads {
  private current: { prefix: string; pack: Pack; upload: Promise<unknown> } | null = null;

  constructor(private readonly helpers: Map<string, Docker.Container>) {}

  async packFor(prefix: string): Promise<Pack> {
    if (this.current?.prefix === prefix) return this.current.pack;
    await this.finish();
    const helper = this.helpers.get(prefix);
    if (!helper) throw new Error(`the archive holds ${prefix}, which its manifest does not list`);
    const pack = tarPack();
    this.current = { prefix, pack, upload: helper.putArchive(pack, { path: RESTORE_PATH }) };
    return pack;
  }

  async finish(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = null;
    current.pack.finalize();
    await current.upload;
  }

  abandon(): void {
    this.current?.pack.destroy();
    this.current = null;
  }
}
