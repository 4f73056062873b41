import { randomBytes } from 'node:crypto';

/** Opaque ids such as `task-3f9a0c1b2d4e5f60`: 64 random bits, URL-safe. */
export function newId(prefix: 'task' | 'exec' | 'key' | 'backup'): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}
