import { describe, expect, it } from 'vitest';
import { pullError } from './image-pull';

describe('pullError', () => {
  it('finds the error a pull reports inside its progress stream', () => {
    expect(pullError([{ error: undefined }, {}])).toBeNull();
    expect(pullError([{}, { errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown (short)' }])).toBe('manifest unknown');
    expect(pullError([{ error: 'denied' }])).toBe('denied');
  });
});
