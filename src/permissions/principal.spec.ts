import { describe, expect, it } from 'vitest';
import type { Permission, ScopedPermission } from './permission';
import { PERMISSIONS } from './permission';
import { canAccessProject, covers, hasPermission, type Principal } from './principal';

const principal = (permissions: Permission[], projectIds: string[] | null = null): Principal => ({
  keyId: 'key-test',
  permissions,
  projectIds,
  expiresAt: null,
});

describe('hasPermission', () => {
  it('a * key holds every scoped permission', () => {
    for (const permission of PERMISSIONS) {
      expect(hasPermission(principal(['*']), permission)).toBe(true);
    }
  });

  it('a key holds exactly the permissions it lists', () => {
    const reader = principal(['tasks:read']);
    const table: Array<[ScopedPermission, boolean]> = [
      ['tasks:read', true],
      ['tasks:write', false],
      ['tasks:host-commands', false],
      ['projects:read', false],
      ['projects:write', false],
      ['api-keys:manage', false],
    ];
    for (const [permission, expected] of table) {
      expect(hasPermission(reader, permission), permission).toBe(expected);
    }
  });

  it('write does not imply read, nor tasks:write host commands', () => {
    const writer = principal(['tasks:write', 'projects:write']);
    expect(hasPermission(writer, 'tasks:read')).toBe(false);
    expect(hasPermission(writer, 'projects:read')).toBe(false);
    expect(hasPermission(writer, 'tasks:host-commands')).toBe(false);
    expect(hasPermission(writer, 'tasks:write')).toBe(true);
  });

  it('a key with no permissions holds none', () => {
    for (const permission of PERMISSIONS) {
      expect(hasPermission(principal([]), permission)).toBe(false);
    }
  });

  it('a project scope does not change which permissions are held', () => {
    expect(hasPermission(principal(['*'], ['a']), 'api-keys:manage')).toBe(true);
    expect(hasPermission(principal(['tasks:read'], ['a']), 'tasks:read')).toBe(true);
  });
});

describe('canAccessProject', () => {
  const table: Array<[string[] | null, string, boolean]> = [
    [null, 'anything', true],
    [null, '', true],
    [['a'], 'a', true],
    [['a'], 'b', false],
    [['a', 'b'], 'b', true],
    [['a', 'b'], 'c', false],
    [[], 'a', false],
    // Exact match only: no prefixes, no case folding.
    [['prod'], 'prod-2', false],
    [['prod'], 'PROD', false],
  ];
  it.each(table)('projectIds %j, project %j → %s', (projectIds, projectId, expected) => {
    expect(canAccessProject(principal(['*'], projectIds), projectId)).toBe(expected);
  });
});

describe('covers (the minting rule)', () => {
  describe('permissions', () => {
    it('a * holder covers anything, * included', () => {
      const admin = principal(['*']);
      expect(covers(admin, { permissions: ['*'], projectIds: null })).toBe(true);
      expect(covers(admin, { permissions: [...PERMISSIONS], projectIds: null })).toBe(true);
      expect(covers(admin, { permissions: ['tasks:read'], projectIds: ['x'] })).toBe(true);
    });

    it('* is never grantable by a holder without *, even one holding every scoped permission', () => {
      const everything = principal([...PERMISSIONS]);
      expect(covers(everything, { permissions: ['*'], projectIds: null })).toBe(false);
      expect(covers(everything, { permissions: ['tasks:read', '*'], projectIds: null })).toBe(false);
      expect(covers(everything, { permissions: [...PERMISSIONS], projectIds: null })).toBe(true);
    });

    it('a subset is covered; anything beyond is not', () => {
      const holder = principal(['tasks:read', 'tasks:write', 'api-keys:manage']);
      const table: Array<[Permission[], boolean]> = [
        [['tasks:read'], true],
        [['tasks:read', 'tasks:write'], true],
        [['tasks:read', 'tasks:write', 'api-keys:manage'], true],
        [['tasks:host-commands'], false],
        [['tasks:read', 'projects:read'], false],
        [['projects:write'], false],
        [[], true],
      ];
      for (const [permissions, expected] of table) {
        expect(covers(holder, { permissions, projectIds: null }), JSON.stringify(permissions)).toBe(expected);
      }
    });
  });

  describe('projects', () => {
    const unscoped = principal(['tasks:read']);
    const scoped = principal(['tasks:read'], ['a', 'b']);

    it('an unscoped holder covers unscoped and any scoped grant', () => {
      expect(covers(unscoped, { permissions: ['tasks:read'], projectIds: null })).toBe(true);
      expect(covers(unscoped, { permissions: ['tasks:read'], projectIds: ['a'] })).toBe(true);
      expect(covers(unscoped, { permissions: ['tasks:read'], projectIds: [] })).toBe(true);
    });

    it('a scoped holder never covers an unscoped grant', () => {
      expect(covers(scoped, { permissions: ['tasks:read'], projectIds: null })).toBe(false);
      expect(covers(principal(['*'], ['a']), { permissions: ['tasks:read'], projectIds: null })).toBe(false);
    });

    it('a scoped holder covers subsets of its projects only', () => {
      const table: Array<[string[], boolean]> = [
        [['a'], true],
        [['b'], true],
        [['a', 'b'], true],
        [['c'], false],
        [['a', 'c'], false],
        [[], true],
      ];
      for (const [projectIds, expected] of table) {
        expect(covers(scoped, { permissions: ['tasks:read'], projectIds }), JSON.stringify(projectIds)).toBe(expected);
      }
    });

    it('a holder scoped to no projects covers only grants for no projects', () => {
      const none = principal(['tasks:read'], []);
      expect(covers(none, { permissions: ['tasks:read'], projectIds: [] })).toBe(true);
      expect(covers(none, { permissions: ['tasks:read'], projectIds: ['a'] })).toBe(false);
      expect(covers(none, { permissions: ['tasks:read'], projectIds: null })).toBe(false);
    });

    it('both conditions must hold', () => {
      expect(covers(scoped, { permissions: ['tasks:write'], projectIds: ['a'] })).toBe(false);
      expect(covers(scoped, { permissions: ['tasks:read'], projectIds: ['z'] })).toBe(false);
      expect(covers(principal(['*'], ['a']), { permissions: ['*'], projectIds: ['a'] })).toBe(true);
      expect(covers(principal(['*'], ['a']), { permissions: ['*'], projectIds: ['b'] })).toBe(false);
    });
  });
});
