import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { BackupNotFoundError, BackupStoreError, checkKey, type BackupStore, type StoredObject } from './backup-store';
import { DigestStream } from './content-digest';

export interface S3BackupStoreOptions {
  /** Any S3-compatible endpoint; AWS's own when unset. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Put before every key, e.g. `backups/`. */
  prefix?: string;
  /** Without them the SDK's default chain (environment, instance role…) applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  /** Multipart part size in bytes (at least 5 MiB). Memory per write is about partSize × (queueSize + 1). */
  partSize?: number;
  /** Parts uploaded at once. */
  queueSize?: number;
  /** How long a failed write keeps trying to abort its multipart upload and remove the object. */
  cleanupTimeoutMs?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
/** The least time one cleanup request gets, even past the deadline (the single delete after a failed upload). */
const CLEANUP_ATTEMPT_MIN_MS = 2000;

/**
 * Backups as objects of one bucket, written by multipart upload with a bounded queue. The upload
 * is checked against HeadObject: ContentLength and the ETag (MD5, or the multipart MD5-of-MD5s),
 * both computed here while streaming. Error messages never carry the credentials.
 */
export class S3BackupStore implements BackupStore {
  readonly destination = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly cleanupTimeoutMs: number;
  private readonly secrets: string[];

  constructor(options: S3BackupStoreOptions) {
    if (options.bucket.length === 0) throw new BackupStoreError('The S3 bucket name is empty');
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    if (this.partSize < MIN_PART_SIZE) throw new BackupStoreError(`The S3 part size must be at least ${MIN_PART_SIZE} bytes`);
    this.queueSize = options.queueSize ?? 2;
    this.cleanupTimeoutMs = options.cleanupTimeoutMs ?? 30_000;
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix === '' ? '' : `${prefix}/`;
    this.secrets = [options.accessKeyId, options.secretAccessKey].filter((secret): secret is string => !!secret);
    const { accessKeyId, secretAccessKey } = options;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
      // A server that stops answering must not hold a write (or its cleanup) forever.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
      // The SDK's default CRC checksum headers are refused by several S3-compatible servers;
      // integrity is checked here anyway (ETag and size after upload, SHA-256 before restore).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async write(key: string, source: Readable, signal: AbortSignal): Promise<StoredObject> {
    let objectKey: string;
    try {
      objectKey = this.objectKey(key);
    } catch (error) {
      source.destroy();
      throw error;
    }
    const location = `s3://${this.bucket}/${objectKey}`;
    const digest = new DigestStream(this.partSize);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: digest, ContentType: 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      // Aborting is done below, after every part in flight has settled, and retried.
      leavePartsOnError: true,
    });
    // Not `pipeline`: when lib-storage stops reading it destroys the body with an AbortError of
    // its own, which pipeline would report instead of the upload's error. Here the source's own
    // failure (or the abort) reaches the upload through the body, and done() names the cause.
    const stopSource = () => {
      source.destroy(signal.reason instanceof Error ? signal.reason : new Error('The write was aborted'));
      // Parts in flight to a server that stopped answering would otherwise hold done() until requestTimeout.
      void upload.abort().catch(() => undefined);
    };
    signal.addEventListener('abort', stopSource, { once: true });
    finished(source).catch((error: unknown) => digest.destroy(error instanceof Error ? error : new Error(String(error))));
    source.pipe(digest);
    let uploaded = false;
    try {
      signal.throwIfAborted();
      await upload.done();
      uploaded = true;
      signal.throwIfAborted();
      await this.verify(objectKey, location, digest);
      return { location, size: digest.byteCount, sha256: digest.sha256 };
    } catch (error) {
      source.destroy();
      digest.destroy();
      const leftOver = await this.discard(objectKey, upload.uploadId, uploaded);
      if (signal.aborted && leftOver === undefined) throw signal.reason;
      const message = `Writing ${location} failed: ${this.describe(error)}`;
      throw new BackupStoreError(leftOver === undefined ? message : `${message}; cleaning up failed too: ${leftOver}`);
    } finally {
      signal.removeEventListener('abort', stopSource);
    }
  }

  async read(key: string): Promise<Readable> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return response.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey) throw new BackupNotFoundError(`No backup at s3://${this.bucket}/${objectKey}`);
      throw new BackupStoreError(`Reading s3://${this.bucket}/${objectKey} failed: ${this.describe(error)}`);
    }
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      throw new BackupStoreError(`Deleting s3://${this.bucket}/${objectKey} failed: ${this.describe(error)}`);
    }
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    checkKey(key);
    return `${this.prefix}${key}`;
  }

  private async verify(objectKey: string, location: string, digest: DigestStream): Promise<void> {
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    const etag = head.ETag?.replace(/"/g, '').toLowerCase();
    const expected = digest.expectedETags;
    if (head.ContentLength !== digest.byteCount || etag === undefined || !expected.includes(etag)) {
      throw new BackupStoreError(
        `Verification of ${location} failed: the store reports ${head.ContentLength} bytes with ETag ${head.ETag}, ` +
          `expected ${digest.byteCount} bytes with ETag ${expected.join(' or ')}`,
      );
    }
  }

  /**
   * Aborts the multipart upload (so no parts stay behind) and deletes the key (an upload that
   * completed before the failure). Both are retried until `cleanupTimeoutMs`; the delete only
   * tried once when the upload never completed. Returns what could not be done.
   */
  private async discard(objectKey: string, uploadId: string | undefined, completed: boolean): Promise<string | undefined> {
    const deadline = Date.now() + this.cleanupTimeoutMs;
    const problems: string[] = [];
    if (uploadId !== undefined) {
      const aborted = await this.retryUntil(deadline, (abortSignal) =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }), { abortSignal }),
      );
      if (aborted !== undefined) problems.push(`multipart upload ${uploadId} could not be aborted (its parts stay until a lifecycle rule removes them): ${aborted}`);
    }
    const deleted = await this.retryUntil(completed ? deadline : 0, (abortSignal) =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }), { abortSignal }),
    );
    if (deleted !== undefined) problems.push(`the object could not be deleted: ${deleted}`);
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  /** Undefined once `action` succeeded (or the upload is already gone); else the last error. */
  private async retryUntil(deadline: number, action: (signal: AbortSignal) => Promise<unknown>): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Each attempt ends by the deadline too: a server that accepts and never answers must not hold the run.
        await action(AbortSignal.timeout(Math.max(CLEANUP_ATTEMPT_MIN_MS, deadline - Date.now())));
        return undefined;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchUpload') return undefined;
        if (!isRetryable(error) || Date.now() >= deadline) return this.describe(error);
      }
      await delay(Math.min(2_000, 250 * 2 ** attempt));
    }
  }

  private describe(error: unknown): string {
    let message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
    if (status !== undefined && !message.includes(String(status))) message += ` (HTTP ${status})`;
    for (const secret of this.secrets) message = message.split(secret).join('[secret]');
    return message;
  }
}

/** Connection failures, throttling and server errors may pass; other answers (403, 405…) will not. */
function isRetryable(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return status === undefined || status === 429 || status >= 500;
}
