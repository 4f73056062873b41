import 'reflect-metadata';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { CONTROLLER_WATERMARK, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError } from '../common/errors/domain-errors';
import { HealthController } from '../health/health.controller';
import { ProjectsController } from '../projects/projects.controller';
import { CronController } from '../tasks/cron.controller';
import { TasksController } from '../tasks/tasks.controller';
import { ApiKeysController } from './api-keys.controller';
import type { ApiKeysService } from './api-keys.service';
import { IS_PUBLIC, Public, REQUIRED_PERMISSIONS, RequireAnyKey, RequirePermissions } from './permissions.decorators';
import { PermissionsGuard } from './permissions.guard';
import type { Principal } from './principal';

const KEYS: Record<string, Principal> = {
  'admin-secret': { keyId: 'key-admin', permissions: ['*'], projectIds: null, expiresAt: null },
  'reader-secret': { keyId: 'key-reader', permissions: ['tasks:read'], projectIds: null, expiresAt: null },
  'writer-secret': { keyId: 'key-writer', permissions: ['tasks:read', 'tasks:write'], projectIds: ['a'], expiresAt: null },
  'nothing-secret': { keyId: 'key-nothing', permissions: [], projectIds: null, expiresAt: null },
};

/** Stands in for ApiKeysService: only `authenticate` is used by the guard. */
class FakeApiKeys {
  readonly seen: string[] = [];
  async authenticate(secret: string): Promise<Principal | null> {
    this.seen.push(secret);
    return KEYS[secret] ?? null;
  }
}

@Controller('fake')
class FakeController {
  @Get('public') @Public()
  publicRoute() {}

  @Get('no-policy')
  noPolicy() {}

  @Get('read') @RequirePermissions('tasks:read')
  read() {}

  @Get('write') @RequirePermissions('tasks:write')
  write() {}

  @Get('read-write-hosts') @RequirePermissions('tasks:read', 'tasks:write', 'tasks:host-commands')
  several() {}

  @Get('any') @RequireAnyKey()
  anyKey() {}
}

@Public()
@Controller('public-class')
class PublicClassController {
  @Get()
  route() {}
}

type FakeRequest = { headers: Record<string, string | undefined>; principal?: Principal };

function contextFor(controller: new (...args: never[]) => object, method: string, headers: Record<string, string> = {}) {
  const request: FakeRequest = { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) };
  const handler = (controller.prototype as Record<string, unknown>)[method] as () => unknown;
  if (typeof handler !== 'function') throw new Error(`no method ${method}`);
  const context = {
    getHandler: () => handler,
    getClass: () => controller,
    getType: () => 'http',
    getArgs: () => [request],
    getArgByIndex: (index: number) => [request][index],
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}), getNext: () => undefined }),
    switchToRpc: () => {
      throw new Error('not rpc');
    },
    switchToWs: () => {
      throw new Error('not ws');
    },
  } as unknown as ExecutionContext;
  return { context, request };
}

const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

describe('PermissionsGuard', () => {
  let apiKeys: FakeApiKeys;
  let guard: PermissionsGuard;

  beforeEach(() => {
    apiKeys = new FakeApiKeys();
    guard = new PermissionsGuard(new Reflector(), apiKeys as unknown as ApiKeysService);
  });

  describe('public routes', () => {
    it('@Public() on a handler passes without a key and without looking one up', async () => {
      const { context, request } = contextFor(FakeController, 'publicRoute');
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(apiKeys.seen).toEqual([]);
      expect(request.principal).toBeUndefined();
    });

    it('@Public() on a class covers its handlers', async () => {
      const { context } = contextFor(PublicClassController, 'route');
      await expect(guard.canActivate(context)).resolves.toBe(true);
    });

    it('a public route also passes with an unknown key (the key is not even checked)', async () => {
      const { context } = contextFor(FakeController, 'publicRoute', bearer('bogus'));
      await expect(guard.canActivate(context)).resolves.toBe(true);
    });
  });

  describe('deny by default', () => {
    it('a handler without @RequirePermissions is refused even to a * key', async () => {
      const { context, request } = contextFor(FakeController, 'noPolicy', bearer('admin-secret'));
      const error = await guard.canActivate(context).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as ForbiddenError).status).toBe(403);
      expect((error as ForbiddenError).message).toBe('Forbidden');
      expect(request.principal).toBeUndefined();
    });

    it('a handler without policy and without key is 401 (401 comes before 403)', async () => {
      const { context } = contextFor(FakeController, 'noPolicy');
      await expect(guard.canActivate(context)).rejects.toBeInstanceOf(UnauthorizedError);
    });
  });

  describe('authentication', () => {
    it('no key → UnauthorizedError', async () => {
      const { context } = contextFor(FakeController, 'read');
      const error = await guard.canActivate(context).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect((error as UnauthorizedError).status).toBe(401);
      expect((error as UnauthorizedError).message).toBe('Unauthorized');
      expect(apiKeys.seen).toEqual([]);
    });

    it('an unknown key → UnauthorizedError', async () => {
      const { context } = contextFor(FakeController, 'read', bearer('unknown-secret'));
      await expect(guard.canActivate(context)).rejects.toBeInstanceOf(UnauthorizedError);
      expect(apiKeys.seen).toEqual(['unknown-secret']);
    });

    it('Authorization: Bearer <key> is read (scheme case-insensitive, surrounding spaces tolerated)', async () => {
      for (const header of ['Bearer reader-secret', 'bearer reader-secret', 'BEARER   reader-secret  ']) {
        apiKeys.seen.length = 0;
        const { context, request } = contextFor(FakeController, 'read', { Authorization: header });
        await expect(guard.canActivate(context), header).resolves.toBe(true);
        expect(apiKeys.seen).toEqual(['reader-secret']);
        expect(request.principal).toEqual(KEYS['reader-secret']);
      }
    });

    it('X-API-Key: <key> is read', async () => {
      const { context, request } = contextFor(FakeController, 'read', { 'X-API-Key': 'reader-secret' });
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(apiKeys.seen).toEqual(['reader-secret']);
      expect(request.principal?.keyId).toBe('key-reader');
    });

    it.each([
      ['Basic cmVhZGVyLXNlY3JldDo=', undefined],
      ['reader-secret', undefined],
      ['Bearer', undefined],
      ['Bearer ', undefined],
      ['Bearer reader-secret extra', undefined],
      ['Token reader-secret', undefined],
    ])('a malformed Authorization header %j → UnauthorizedError, nothing looked up', async (header) => {
      const { context } = contextFor(FakeController, 'read', { Authorization: header });
      await expect(guard.canActivate(context)).rejects.toBeInstanceOf(UnauthorizedError);
      expect(apiKeys.seen).toEqual([]);
    });

    it('an empty X-API-Key → UnauthorizedError', async () => {
      const { context } = contextFor(FakeController, 'read', { 'X-API-Key': '' });
      await expect(guard.canActivate(context)).rejects.toBeInstanceOf(UnauthorizedError);
    });
  });

  describe('authorization', () => {
    it('a key holding the permission passes and the principal is attached to the request', async () => {
      const { context, request } = contextFor(FakeController, 'write', bearer('writer-secret'));
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(request.principal).toEqual(KEYS['writer-secret']);
    });

    it('a * key passes every RequirePermissions route', async () => {
      for (const method of ['read', 'write', 'several', 'anyKey']) {
        const { context } = contextFor(FakeController, method, bearer('admin-secret'));
        await expect(guard.canActivate(context), method).resolves.toBe(true);
      }
    });

    it('a missing permission → ForbiddenError whose details name it', async () => {
      const { context, request } = contextFor(FakeController, 'write', bearer('reader-secret'));
      const error = await guard.canActivate(context).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as ForbiddenError).message).toBe('Forbidden');
      expect(String((error as ForbiddenError).details)).toContain('tasks:write');
      expect(request.principal).toBeUndefined();
    });

    it('with several required permissions, details name every missing one and only those', async () => {
      const { context } = contextFor(FakeController, 'several', bearer('reader-secret'));
      const error = (await guard.canActivate(context).catch((e: unknown) => e)) as ForbiddenError;
      expect(error).toBeInstanceOf(ForbiddenError);
      const details = String(error.details);
      expect(details).toContain('tasks:write');
      expect(details).toContain('tasks:host-commands');
      expect(details).not.toContain('tasks:read');
    });

    it('@RequireAnyKey() admits any valid key, even one without permissions, but no anonymous caller', async () => {
      const ok = contextFor(FakeController, 'anyKey', bearer('nothing-secret'));
      await expect(guard.canActivate(ok.context)).resolves.toBe(true);
      expect(ok.request.principal?.keyId).toBe('key-nothing');
      const anonymous = contextFor(FakeController, 'anyKey');
      await expect(guard.canActivate(anonymous.context)).rejects.toBeInstanceOf(UnauthorizedError);
    });

    it('a key without permissions is refused a RequirePermissions route', async () => {
      const { context } = contextFor(FakeController, 'read', bearer('nothing-secret'));
      await expect(guard.canActivate(context)).rejects.toBeInstanceOf(ForbiddenError);
    });
  });
});

/** Every class under src/ that Nest treats as a controller, found by walking the source tree. */
async function discoverControllers(): Promise<Map<string, new (...args: never[]) => object>> {
  const srcRoot = join(__dirname, '..');
  const files = (readdirSync(srcRoot, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.controller.ts'))
    .map((file) => join(srcRoot, file));
  const found = new Map<string, new (...args: never[]) => object>();
  for (const file of files) {
    const module = (await import(file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'function' && Reflect.getMetadata(CONTROLLER_WATERMARK, value)) {
        found.set(`${relative(srcRoot, file)}#${name}`, value as new (...args: never[]) => object);
      }
    }
  }
  return found;
}

function routeMethods(controller: new (...args: never[]) => object): string[] {
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype).filter((name) => {
    if (name === 'constructor') return false;
    const member = Object.getOwnPropertyDescriptor(prototype, name)?.value;
    return typeof member === 'function' && Reflect.getMetadata(METHOD_METADATA, member) !== undefined;
  });
}

describe('every route of the real application has a policy', () => {
  const known = [ApiKeysController, ProjectsController, TasksController, CronController, HealthController];

  it('the walk finds the known controllers and their routes', async () => {
    const controllers = [...(await discoverControllers()).values()];
    for (const controller of known) expect(controllers, controller.name).toContain(controller);
    // The known ones route at least the documented endpoints.
    expect(routeMethods(TasksController)).toEqual(expect.arrayContaining(['list', 'create', 'get', 'update', 'delete']));
    expect(routeMethods(ProjectsController)).toEqual(expect.arrayContaining(['list', 'create', 'get', 'update', 'delete']));
    expect(routeMethods(ApiKeysController)).toEqual(expect.arrayContaining(['me', 'create', 'list', 'revoke']));
    expect(routeMethods(HealthController)).toEqual(expect.arrayContaining(['live', 'ready']));
    expect(routeMethods(CronController)).toEqual(['preview']);
    // The fake controller of this file is found to have routes too (the detection works).
    expect(routeMethods(FakeController)).toContain('noPolicy');
  });

  it('each route method is @Public() or carries @RequirePermissions / @RequireAnyKey', async () => {
    const reflector = new Reflector();
    const controllers = await discoverControllers();
    const withoutPolicy: string[] = [];
    let routes = 0;
    for (const [name, controller] of controllers) {
      expect(Reflect.getMetadata(PATH_METADATA, controller), name).toBeDefined();
      for (const method of routeMethods(controller)) {
        routes += 1;
        const handler = (controller.prototype as Record<string, () => unknown>)[method];
        const targets = [handler, controller];
        const isPublic = reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true;
        const required = reflector.getAllAndOverride<unknown>(REQUIRED_PERMISSIONS, targets);
        if (!isPublic && !Array.isArray(required)) withoutPolicy.push(`${name}.${method}`);
      }
    }
    expect(routes).toBeGreaterThanOrEqual(15);
    expect(withoutPolicy).toEqual([]);
  });

  it('only health (and metrics, if present) routes are public', async () => {
    const reflector = new Reflector();
    const publicRoutes: string[] = [];
    for (const controller of (await discoverControllers()).values()) {
      const path = String(Reflect.getMetadata(PATH_METADATA, controller));
      for (const method of routeMethods(controller)) {
        const handler = (controller.prototype as Record<string, () => unknown>)[method];
        if (reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, controller])) publicRoutes.push(`${path}:${controller.name}.${method}`);
      }
    }
    expect(publicRoutes).toEqual(expect.arrayContaining(['health:HealthController.live', 'health:HealthController.ready']));
    expect(publicRoutes.filter((route) => !/^\/?(health|metrics)\b/.test(route))).toEqual([]);
  });

  it('the walk notices a route without a policy (sanity check of the check itself)', () => {
    const reflector = new Reflector();
    const handler = FakeController.prototype.noPolicy;
    expect(reflector.getAllAndOverride(IS_PUBLIC, [handler, FakeController])).toBeUndefined();
    expect(reflector.getAllAndOverride(REQUIRED_PERMISSIONS, [handler, FakeController])).toBeUndefined();
    expect(reflector.getAllAndOverride(REQUIRED_PERMISSIONS, [FakeController.prototype.read, FakeController])).toEqual(['tasks:read']);
  });
});
