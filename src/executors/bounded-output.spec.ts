import { describe, expect, it } from 'vitest';
import { BoundedOutput } from './bounded-output';

const marker = (omitted: number): string => `\n[… ${omitted} bytes omitted …]\n`;

describe('BoundedOutput', () => {
  it('keeps everything under the limit', () => {
    const out = new BoundedOutput(100);
    out.write('hello ');
    out.write(Buffer.from('world'));
    expect(out.toString()).toBe('hello world');
    expect(out.truncatedBytes).toBe(0);
    expect(out.totalBytes).toBe(11);
  });

  it('keeps everything at exactly the limit', () => {
    const out = new BoundedOutput(10);
    out.write('0123456789');
    expect(out.toString()).toBe('0123456789');
    expect(out.truncatedBytes).toBe(0);
  });

  it('is empty when nothing was written', () => {
    expect(new BoundedOutput(10).toString()).toBe('');
  });

  it('keeps the first and last half of a longer stream, with the omitted count', () => {
    const out = new BoundedOutput(10);
    out.write('abcdefghijklmnopqrstuvwxyz');
    expect(out.toString()).toBe(`abcde${marker(16)}vwxyz`);
    expect(out.truncatedBytes).toBe(16);
    expect(out.totalBytes).toBe(26);
  });

  it('gives the odd byte of the limit to the tail', () => {
    const out = new BoundedOutput(5);
    out.write('abcdefghij');
    expect(out.toString()).toBe(`ab${marker(5)}hij`);
  });

  it('gives the same result for many small writes as for one', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('');
    const whole = new BoundedOutput(301);
    whole.write(text);
    const pieces = new BoundedOutput(301);
    for (let i = 0; i < text.length; i += 7) pieces.write(text.slice(i, i + 7));
    expect(pieces.toString()).toBe(whole.toString());
    expect(pieces.toString().startsWith('line 0\nline 1\n')).toBe(true);
    expect(pieces.toString().endsWith('line 998\nline 999\n')).toBe(true);
    expect(pieces.truncatedBytes).toBe(Buffer.byteLength(text) - 301);
  });

  it('wraps its tail correctly across writes of varying sizes', () => {
    const out = new BoundedOutput(8);
    const text = 'The quick brown fox jumps over the lazy dog';
    let at = 0;
    for (const size of [3, 1, 9, 2, 5, 1, 11, 4]) {
      out.write(text.slice(at, at + size));
      at += size;
    }
    out.write(text.slice(at));
    expect(out.toString()).toBe(`The ${marker(text.length - 8)} dog`);
  });

  it('does not split a multi-byte character at either edge', () => {
    // "é" is 2 bytes, "€" 3 and "😀" 4: every cut position lands inside some character.
    const text = 'é€😀'.repeat(50);
    for (const limit of [7, 8, 9, 10, 11, 12, 13, 21, 22]) {
      const out = new BoundedOutput(limit);
      out.write(text);
      const kept = out.toString();
      expect(kept, `limit ${limit}`).not.toContain('\uFFFD');
      const [head, tail] = kept.split(/\n\[… \d+ bytes omitted …\]\n/);
      expect(text.startsWith(head), `limit ${limit}`).toBe(true);
      expect(text.endsWith(tail), `limit ${limit}`).toBe(true);
      expect(Buffer.byteLength(head) + Buffer.byteLength(tail)).toBeLessThanOrEqual(limit);
      // The count covers the bytes of characters cut at the edges too.
      expect(out.truncatedBytes).toBe(Buffer.byteLength(text) - Buffer.byteLength(head) - Buffer.byteLength(tail));
      expect(kept).toContain(marker(out.truncatedBytes));
    }
  });

  it('reassembles characters split across writes', () => {
    const out = new BoundedOutput(100);
    const bytes = Buffer.from('a😀b');
    for (const byte of bytes) out.write(Buffer.from([byte]));
    expect(out.toString()).toBe('a😀b');
  });

  it('keeps memory bounded: 50 MB in 64 KB chunks', () => {
    const limit = 64 * 1024;
    const out = new BoundedOutput(limit);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const chunks = (50 * 1024 * 1024) / chunk.length;
    for (let i = 0; i < chunks; i++) out.write(chunk);
    const omitted = 50 * 1024 * 1024 - limit;
    expect(out.truncatedBytes).toBe(omitted);
    expect(out.toString().length).toBeLessThanOrEqual(limit + marker(omitted).length);
  });

  it('does not keep a reference to the caller’s buffers', () => {
    const out = new BoundedOutput(4);
    const reused = Buffer.from('abcdef');
    out.write(reused);
    reused.fill('z');
    expect(out.toString()).toBe(`ab${marker(2)}ef`);
  });

  it('rejects a negative or fractional limit', () => {
    expect(() => new BoundedOutput(-1)).toThrow(RangeError);
    expect(() => new BoundedOutput(1.5)).toThrow(RangeError);
  });
});
