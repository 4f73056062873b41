import type { Permission, ScopedPermission } from './permission';

/** Who is calling: resolved from the API key by the global guard. */
export interface Principal {
  keyId: string;
  permissions: readonly Permission[];
  /** Null: every project. */
  projectIds: readonly string[] | null;
  /** Null: never. */
  expiresAt: Date | null;
}

export function hasPermission(principal: Principal, permission: ScopedPermission): boolean {
  return principal.permissions.includes('*') || principal.permissions.includes(permission);
}

export function canAccessProject(principal: Principal, projectId: string): boolean {
  return principal.projectIds === null || principal.projectIds.includes(projectId);
}

/** Whether `holder` holds at least everything `grant` would give: the rule for minting keys. */
export function covers(
  holder: Principal,
  grant: { permissions: readonly Permission[]; projectIds: readonly string[] | null },
): boolean {
  const permissionsCovered =
    holder.permissions.includes('*') ||
    grant.permissions.every((permission) => permission !== '*' && holder.permissions.includes(permission));
  const projectsCovered =
    holder.projectIds === null ||
    (grant.projectIds !== null && grant.projectIds.every((id) => holder.projectIds!.includes(id)));
  return permissionsCovered && projectsCovered;
}
