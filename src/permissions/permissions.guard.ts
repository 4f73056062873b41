import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../common/errors/domain-errors';
import { ApiKeysService } from './api-keys.service';
import type { ScopedPermission } from './permission';
import { ALL_PROJECTS_ONLY, IS_PUBLIC, REQUIRED_PERMISSIONS } from './permissions.decorators';
import { hasPermission, type Principal } from './principal';

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/** Global guard: a route without `@Public()` or `@RequirePermissions()` is refused to everyone. */
@Injectable()
export class PermissionsGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const secret = presentedKey(request);
    const principal = secret ? await this.apiKeys.authenticate(secret) : null;
    if (!principal) throw new UnauthorizedError();

    const required = this.reflector.getAllAndOverride<ScopedPermission[] | undefined>(REQUIRED_PERMISSIONS, targets);
    if (!required) throw new ForbiddenError('This route has no permission policy');
    const missing = required.filter((permission) => !hasPermission(principal, permission));
    if (missing.length > 0) throw new ForbiddenError(`Missing permission: ${missing.join(', ')}`);
    if (principal.projectIds !== null && this.reflector.getAllAndOverride<boolean>(ALL_PROJECTS_ONLY, targets)) {
      throw new ForbiddenError('A key limited to some projects cannot do this');
    }

    request.principal = principal;
    return true;
  }
}
