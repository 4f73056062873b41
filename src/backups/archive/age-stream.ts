import { Decrypter, Encrypter } from 'age-encryption';
import { readFile } from 'node:fs/promises';
import { Duplex, Readable } from 'node:stream';
import { ReadableStream, TransformStream } from 'node:stream/web';
import { BackupArchiveError, errorMessage } from './backup-archive-error';

/** age to X25519 recipients (`age1…`), or to a passphrase (scrypt). */
export type BackupEncryption =
  | { recipients: readonly string[] }
  | { passphrase: string; scryptWorkFactor?: number };

/** What opens an encrypted backup: an age identity file (as `age-keygen` writes it) and/or a passphrase. */
export interface BackupDecryption {
  identityFile?: string;
  passphrase?: string;
}

/** Every age file starts with this line; a gzip stream cannot (it starts with 0x1f 0x8b). */
export const AGE_HEADER = Buffer.from('age-encryption.org/v1\n');

// Only X25519: the library also writes post-quantum and tag recipients, which age 1.1 (Debian's CLI) cannot read.
const X25519_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** Checks the keys now, so a misconfiguration fails before anything is read or stored. */
export function createEncrypter(encryption: BackupEncryption): Encrypter {
  const encrypter = new Encrypter();
  if ('passphrase' in encryption) {
    if (encryption.passphrase.length === 0) throw new Error('The age passphrase is empty');
    if (encryption.scryptWorkFactor !== undefined) encrypter.setScryptWorkFactor(encryption.scryptWorkFactor);
    encrypter.setPassphrase(encryption.passphrase);
    return encrypter;
  }
  if (encryption.recipients.length === 0) throw new Error('No age recipient given');
  for (const recipient of encryption.recipients) {
    if (!X25519_RECIPIENT.test(recipient)) {
      throw new Error(`Not an age X25519 recipient (age1… of 62 characters): "${recipient}"`);
    }
    try {
      encrypter.addRecipient(recipient);
    } catch (error) {
      throw new Error(`Invalid age recipient "${recipient}": ${errorMessage(error)}`);
    }
  }
  return encrypter;
}

/** A Duplex for `pipeline`: plaintext in, the age file out, in 64 KiB STREAM chunks (the library's own streaming). */
export async function encryptingStream(encrypter: Encrypter): Promise<Duplex> {
  const plaintext = new TransformStream<Uint8Array, Uint8Array>();
  // The global ReadableStream the library's types name is node:stream/web's at run time.
  const ciphertext = (await encrypter.encrypt(plaintext.readable)) as unknown as ReadableStream<Uint8Array>;
  return Duplex.fromWeb({ readable: ciphertext, writable: plaintext.writable });
}

/**
 * The plaintext of an age file. Rejects with a `BackupArchiveError` when no key is given or none
 * fits (the header is read first); corruption later in the stream errors the returned stream.
 * Errors of `ciphertext` itself pass through unchanged.
 */
export async function decryptStream(ciphertext: Readable, decryption: BackupDecryption): Promise<Readable> {
  const decrypter = new Decrypter();
  let keys = 0;
  if (decryption.identityFile !== undefined) {
    let identities: string[];
    try {
      identities = await readIdentityFile(decryption.identityFile);
    } catch (error) {
      ciphertext.destroy();
      throw new BackupArchiveError('key-missing', `Cannot use the age identity file: ${errorMessage(error)}`);
    }
    for (const identity of identities) decrypter.addIdentity(identity);
    keys++;
  }
  if (decryption.passphrase !== undefined && decryption.passphrase.length > 0) {
    decrypter.addPassphrase(decryption.passphrase);
    keys++;
  }
  if (keys === 0) {
    ciphertext.destroy();
    throw new BackupArchiveError('key-missing', 'The backup is age-encrypted: an identity file or passphrase is needed');
  }

  let sourceError: unknown;
  ciphertext.on('error', (error) => (sourceError = error));
  let plaintext: ReadableStream<Uint8Array>;
  try {
    plaintext = (await decrypter.decrypt(Readable.toWeb(ciphertext))) as unknown as ReadableStream<Uint8Array>;
  } catch (error) {
    ciphertext.destroy();
    if (sourceError !== undefined && error === sourceError) throw error;
    if (errorMessage(error).includes('no identity matched')) {
      throw new BackupArchiveError('wrong-key', 'Wrong identity or passphrase: none of the given keys can decrypt this backup');
    }
    throw new BackupArchiveError('corrupt-encryption', `The age header is corrupt: ${errorMessage(error)}`);
  }
  return Readable.from(authenticatedChunks(plaintext, () => sourceError), { objectMode: false });
}

async function* authenticatedChunks(plaintext: ReadableStream<Uint8Array>, sourceError: () => unknown): AsyncGenerator<Uint8Array> {
  try {
    yield* plaintext;
  } catch (error) {
    if (error === sourceError()) throw error;
    throw new BackupArchiveError(
      'corrupt-encryption',
      `The encrypted data is corrupt or truncated (authentication failed): ${errorMessage(error)}`,
    );
  }
}

/** The identities of a file in age's format: one `AGE-SECRET-KEY-1…` a line, `#` comments. */
export async function readIdentityFile(path: string): Promise<string[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const identities: string[] = [];
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // Never quote the line: it is a secret key.
    if (!line.startsWith('AGE-SECRET-KEY-1')) {
      throw new Error(`${path}, line ${index + 1}: not an age X25519 identity (AGE-SECRET-KEY-1…)`);
    }
    try {
      new Decrypter().addIdentity(line);
    } catch {
      throw new Error(`${path}, line ${index + 1}: invalid age identity`);
    }
    identities.push(line);
  }
  if (identities.length === 0) throw new Error(`${path} holds no age identity`);
  return identities;
}
