import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { ApiErrors } from '../common/dto/api-errors.decorator';
import type { ScopedPermission } from './permission';
import type { Principal } from './principal';

export const REQUIRED_PERMISSIONS = 'requiredPermissions';
export const IS_PUBLIC = 'isPublic';
export const ALL_PROJECTS_ONLY = 'allProjectsOnly';

/** The only way a route becomes reachable with a key: every listed permission is needed. */
export const RequirePermissions = (...permissions: [ScopedPermission, ...ScopedPermission[]]) =>
  applyDecorators(
    requireKey(permissions),
    ApiErrors(403, 'Forbidden'),
  );

/** Any valid key, whatever its permissions. */
export const RequireAnyKey = () => requireKey([]);

function requireKey(permissions: ScopedPermission[]) {
  return applyDecorators(
    SetMetadata(REQUIRED_PERMISSIONS, permissions),
    ApiBearerAuth('bearer'),
    ApiSecurity('api-key'),
    ApiErrors(401, 'Unauthorized'),
  );
}

/** Refused (403) to keys limited to some projects: checked with the permissions, before the body. */
export const RequireAllProjects = () => SetMetadata(ALL_PROJECTS_ONLY, true);

/** Reachable without a key (health checks, API docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<{ principal?: Principal }>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without RequirePermissions');
  return principal;
});
