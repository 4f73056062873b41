/**
 * Keeps at most `limitBytes` of a byte stream: the first half and the last half, so both how a
 * command started and how it ended survive. Memory stays at about `limitBytes` whatever is written.
 */
export class BoundedOutput {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly headChunks: Buffer[] = [];
  private headBytes = 0;
  // Ring buffer over the last `tailLimit` bytes; allocated only once the head is full.
  private tail: Buffer | null = null;
  private tailStart = 0;
  private tailBytes = 0;
  private total = 0;

  constructor(limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(`limitBytes must be a non-negative integer, got ${limitBytes}`);
    }
    this.headLimit = Math.floor(limitBytes / 2);
    this.tailLimit = limitBytes - this.headLimit;
  }

  write(chunk: Buffer | string): void {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.total += data.length;

    if (this.headBytes < this.headLimit) {
      const taken = data.subarray(0, this.headLimit - this.headBytes);
      // Copy: the caller may reuse its buffer, and a subarray would pin the whole chunk.
      this.headChunks.push(Buffer.from(taken));
      this.headBytes += taken.length;
      data = data.subarray(taken.length);
    }
    if (data.length > 0 && this.tailLimit > 0) {
      this.writeTail(data);
    }
  }

  /** Total bytes written, kept or not. */
  get totalBytes(): number {
    return this.total;
  }

  /** Bytes of the stream that `toString()` leaves out (0 when it all fit). */
  get truncatedBytes(): number {
    if (!this.isTruncated()) return 0;
    const { head, tail } = this.keptParts();
    return this.total - head.length - tail.length;
  }

  toString(): string {
    if (!this.isTruncated()) {
      return Buffer.concat([...this.headChunks, this.tailContents()]).toString('utf8');
    }
    const { head, tail } = this.keptParts();
    const omitted = this.total - head.length - tail.length;
    return `${head.toString('utf8')}\n[… ${omitted} bytes omitted …]\n${tail.toString('utf8')}`;
  }

  private isTruncated(): boolean {
    return this.total > this.headLimit + this.tailLimit;
  }

  /** Head and tail cut back to whole UTF-8 characters, since both edges are arbitrary byte cuts. */
  private keptParts(): { head: Buffer; tail: Buffer } {
    const head = Buffer.concat(this.headChunks);
    const tail = this.tailContents();
    return {
      head: head.subarray(0, completeUtf8Prefix(head)),
      tail: tail.subarray(leadingContinuationBytes(tail)),
    };
  }

  private writeTail(data: Buffer): void {
    const ring = (this.tail ??= Buffer.alloc(this.tailLimit));
    if (data.length >= ring.length) {
      data.copy(ring, 0, data.length - ring.length);
      this.tailStart = 0;
      this.tailBytes = ring.length;
      return;
    }
    const writeAt = (this.tailStart + this.tailBytes) % ring.length;
    const firstPart = Math.min(data.length, ring.length - writeAt);
    data.copy(ring, writeAt, 0, firstPart);
    data.copy(ring, 0, firstPart);
    const overflow = Math.max(0, this.tailBytes + data.length - ring.length);
    this.tailBytes = Math.min(ring.length, this.tailBytes + data.length);
    this.tailStart = (this.tailStart + overflow) % ring.length;
  }

  private tailContents(): Buffer {
    if (this.tail === null || this.tailBytes === 0) return Buffer.alloc(0);
    const end = this.tailStart + this.tailBytes;
    if (end <= this.tail.length) return Buffer.from(this.tail.subarray(this.tailStart, end));
    return Buffer.concat([this.tail.subarray(this.tailStart), this.tail.subarray(0, end - this.tail.length)]);
  }
}

const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80;

/** Length of `buf` without a trailing, incomplete UTF-8 sequence. */
function completeUtf8Prefix(buf: Buffer): number {
  let lead = buf.length - 1;
  while (lead >= 0 && lead > buf.length - 4 && isContinuation(buf[lead])) lead--;
  if (lead < 0) return buf.length;
  const byte = buf[lead];
  const expected = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return buf.length - lead < expected ? lead : buf.length;
}

/** Continuation bytes at the start of `buf`: the rest of a character cut off before it. */
function leadingContinuationBytes(buf: Buffer): number {
  let i = 0;
  while (i < buf.length && i < 3 && isContinuation(buf[i])) i++;
  return i;
}
