import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through unchanged while computing their size and SHA-256 and, given the part size
 * of an S3 multipart upload, the MD5 forms an ETag can take.
 */
export class DigestStream extends Transform {
  private readonly sha256Hash = createHash('sha256');
  private readonly md5Hash: Hash | undefined;
  private readonly partDigests: Buffer[] = [];
  private partHash: Hash | undefined;
  private partBytes = 0;
  private bytes = 0;
  private sha256Hex: string | undefined;
  private md5Hex: string | undefined;

  constructor(private readonly partSize?: number) {
    super();
    if (partSize !== undefined) this.md5Hash = createHash('md5');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.sha256Hash.update(chunk);
    if (this.partSize !== undefined) this.updateParts(chunk, this.partSize);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.sha256Hex = this.sha256Hash.digest('hex');
    this.md5Hex = this.md5Hash?.digest('hex');
    if (this.partHash !== undefined) this.partDigests.push(this.partHash.digest());
    callback();
  }

  /** Not `size`: lib-storage would take that for the body's length, known in advance. */
  get byteCount(): number {
    return this.bytes;
  }

  /** Once all bytes went through. */
  get sha256(): string {
    if (this.sha256Hex === undefined) throw new Error('The stream has not ended yet');
    return this.sha256Hex;
  }

  /**
   * The ETags S3 may report for these bytes: the plain MD5 (a single PUT, and some S3-compatible
   * servers for multipart uploads too) and, above one part, the multipart form: MD5 of the parts'
   * MD5s, `-`, number of parts.
   */
  get expectedETags(): string[] {
    if (this.md5Hex === undefined) throw new Error('The stream has not ended yet, or no part size was given');
    const etags = [this.md5Hex];
    if (this.partDigests.length > 1) {
      const combined = createHash('md5').update(Buffer.concat(this.partDigests)).digest('hex');
      etags.push(`${combined}-${this.partDigests.length}`);
    }
    return etags;
  }

  private updateParts(chunk: Buffer, partSize: number): void {
    this.md5Hash?.update(chunk);
    let rest = chunk;
    while (rest.length > 0) {
      this.partHash ??= createHash('md5');
      const taken = rest.subarray(0, partSize - this.partBytes);
      this.partHash.update(taken);
      this.partBytes += taken.length;
      rest = rest.subarray(taken.length);
      if (this.partBytes === partSize) {
        this.partDigests.push(this.partHash.digest());
        this.partHash = undefined;
        this.partBytes = 0;
      }
    }
  }
}
