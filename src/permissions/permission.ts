export const PERMISSIONS = [
  'tasks:read',
  'tasks:write',
  'tasks:host-commands',
  'projects:read',
  'projects:write',
  'api-keys:manage',
] as const;
export type ScopedPermission = (typeof PERMISSIONS)[number];
/** `*` grants every permission. */
export type Permission = ScopedPermission | '*';
export const GRANTABLE_PERMISSIONS: readonly Permission[] = ['*', ...PERMISSIONS];
