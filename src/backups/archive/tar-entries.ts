import type { Headers, Pack } from 'tar-stream';

/** A tar header as tar-stream reads and writes it, with the PAX records its types leave out. */
export type TarHeader = Headers & { pax?: Record<string, string> };

export const MANIFEST_NAME = 'manifest.json';

export const ENTRY_TYPES = new Set<TarHeader['type']>([
  'file',
  'contiguous-file',
  'directory',
  'symlink',
  'link',
  'fifo',
  'character-device',
  'block-device',
]);

/** True for a relative path without `.`/`..` components, empty components, NUL or a backslash. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || /[\0\\]/.test(path)) return false;
  const components = path.replace(/\/$/, '').split('/');
  return components.every((component) => component !== '' && component !== '.' && component !== '..');
}

/** `volumes/db` → `volumes/db/`; throws on anything that could leave the archive's own tree. */
export function normalizePrefix(prefix: string): string {
  const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (!isSafeRelativePath(normalized) || normalized === `${MANIFEST_NAME}/`) {
    throw new Error(`Invalid source prefix "${prefix}": a relative path like volumes/<name>/ is needed`);
  }
  return normalized;
}

/**
 * Adds one entry and resolves once the pack has taken all of it, so a pack nobody reads holds
 * the caller back (backpressure). `content` must be exactly `header.size` bytes.
 */
export function addEntry(pack: Pack, header: TarHeader, content?: Buffer | AsyncIterable<Buffer>): Promise<void> {
  const entryHeader = writableHeader(header);
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    // An entry is destroyed with the pack (the consumer gone, say) and emits that error: it must
    // have a listener, or it would be an uncaught exception. `done` reports it too.
    if (content === undefined || Buffer.isBuffer(content)) {
      pack.entry(entryHeader, content ?? Buffer.alloc(0), done).on('error', reject);
      return;
    }
    const sink = pack.entry(entryHeader, done);
    sink.on('error', reject);
    copyInto(content, sink).catch((error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      // Destroying the entry destroys the whole pack: a half-written entry cannot be taken back.
      sink.destroy(failure);
      reject(failure);
    });
  });
}

/**
 * A header as tar-stream should write it. Name, link name and size are the header's own: PAX
 * records for them (kept from the tar the header was read from) would override them when read
 * back. And tar-stream swaps a zero mode for its default (0644/0755); a bit above the 0o7777 it
 * writes keeps a 0o000 entry at 0o000 (for an untyped header it also means "regular file", the
 * default anyway).
 */
function writableHeader(header: TarHeader): TarHeader {
  const pax = Object.entries(header.pax ?? {}).filter(([key]) => key !== 'path' && key !== 'linkpath' && key !== 'size');
  return {
    ...header,
    mode: header.mode === 0 ? 0o100000 : header.mode,
    pax: pax.length > 0 ? Object.fromEntries(pax) : undefined,
  };
}

async function copyInto(content: AsyncIterable<Buffer>, sink: NodeJS.WritableStream): Promise<void> {
  for await (const chunk of content) {
    if (!sink.write(chunk)) await drained(sink);
  }
  sink.end();
}

/** Waits for 'drain', failing if the stream errors or closes first (a destroyed pack never drains). */
function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onDrain = () => settle();
    const onError = (error: unknown) => settle(error);
    const onClose = () => settle(new Error('The stream closed before it drained'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
