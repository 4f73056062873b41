import { describe, expect, it } from 'vitest';
import { SecretMasker } from './secret-masker';

const MASK = '********';

describe('SecretMasker', () => {
  describe('mask', () => {
    it('masks every occurrence of every secret', () => {
      const masker = new SecretMasker(['hunter22', 's3cr3t-key']);
      expect(masker.mask('user=admin pass=hunter22 key=s3cr3t-key again hunter22hunter22')).toBe(
        `user=admin pass=${MASK} key=${MASK} again ${MASK}${MASK}`,
      );
    });

    it('masks a secret that contains another whole (longest first), whatever the given order', () => {
      const text = 'token=abcdef-123456 short=abcdef';
      for (const secrets of [['abcdef', 'abcdef-123456'], ['abcdef-123456', 'abcdef']]) {
        expect(new SecretMasker(secrets).mask(text)).toBe(`token=${MASK} short=${MASK}`);
      }
    });

    it('treats secrets literally, not as patterns', () => {
      const masker = new SecretMasker(['p@ss.w*rd(1)$']);
      expect(masker.mask('a p@ss.w*rd(1)$ b pXss.wwrd1')).toBe(`a ${MASK} b pXss.wwrd1`);
    });

    it('leaves text without secrets alone, and works without secrets', () => {
      expect(new SecretMasker(['hunter22']).mask('nothing to see')).toBe('nothing to see');
      expect(new SecretMasker([]).mask('hunter22')).toBe('hunter22');
      expect(new SecretMasker(['hunter22']).mask('')).toBe('');
    });

    it('tolerates duplicated secrets', () => {
      expect(new SecretMasker(['hunter22', 'hunter22']).mask('x hunter22 y')).toBe(`x ${MASK} y`);
    });
  });

  describe('maskDeep', () => {
    const masker = new SecretMasker(['hunter22', 'topsecret']);

    it('masks strings in nested objects and arrays', () => {
      const value = {
        output: 'pass=hunter22',
        steps: [{ command: 'login topsecret', args: ['hunter22', 'plain'] }, 'topsecret'],
        nested: { deeper: { text: 'hunter22/topsecret' } },
      };
      expect(masker.maskDeep(value)).toEqual({
        output: `pass=${MASK}`,
        steps: [{ command: `login ${MASK}`, args: [MASK, 'plain'] }, MASK],
        nested: { deeper: { text: `${MASK}/${MASK}` } },
      });
    });

    it('does not modify its input', () => {
      const value = { output: 'hunter22', list: ['topsecret'] };
      masker.maskDeep(value);
      expect(value).toEqual({ output: 'hunter22', list: ['topsecret'] });
    });

    it('masks a top-level string and array', () => {
      expect(masker.maskDeep('hunter22')).toBe(MASK);
      expect(masker.maskDeep(['hunter22', 1])).toEqual([MASK, 1]);
    });

    it('leaves Dates, numbers, booleans, null and undefined untouched (a Date stays a Date)', () => {
      const when = new Date('2027-05-10T10:00:00Z');
      const result = masker.maskDeep({ when, count: 42, ok: true, none: null, missing: undefined, text: 'hunter22' });
      expect(result.when).toBeInstanceOf(Date);
      expect(result.when).toBe(when);
      expect(result.when.toISOString()).toBe('2027-05-10T10:00:00.000Z');
      expect(result).toEqual({ when, count: 42, ok: true, none: null, missing: undefined, text: MASK });
      expect(masker.maskDeep(when)).toBe(when);
      expect(masker.maskDeep(7)).toBe(7);
      expect(masker.maskDeep(null)).toBeNull();
    });

    it('keeps Dates inside arrays', () => {
      const when = new Date(0);
      const [first] = masker.maskDeep([when]);
      expect(first).toBe(when);
    });
  });
});
