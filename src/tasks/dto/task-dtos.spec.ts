import type { ArgumentMetadata } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ValidationFailedError } from '../../common/errors/domain-errors';
import { createValidationPipe } from '../../common/validation-pipe';
import { resolveTaskConfig } from '../task-config.defaults';
import { CreateTaskDto } from './create-task.dto';
import { ListTasksQueryDto } from './list-tasks-query.dto';
import { UpdateTaskDto } from './update-task.dto';

const pipe = createValidationPipe();
const asBody = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });
const asQuery = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'query', metatype });

const valid = { name: 'Nightly', type: 'backup', projectId: 'production', cronExpression: '0 2 * * *' };

async function fieldsRejected(metatype: ArgumentMetadata['metatype'], body: unknown, kind: 'body' | 'query' = 'body') {
  try {
    await pipe.transform(body, kind === 'body' ? asBody(metatype) : asQuery(metatype));
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailedError);
    return ((error as ValidationFailedError).details as { field: string }[]).map((detail) => detail.field);
  }
  return [];
}

describe('CreateTaskDto', () => {
  it('accepts the minimal body and leaves the optional fields absent', async () => {
    const dto = await pipe.transform({ ...valid }, asBody(CreateTaskDto));
    expect(dto).toBeInstanceOf(CreateTaskDto);
    expect(dto.enabled).toBeUndefined();
    expect(dto.timezone).toBeUndefined();
  });

  it.each([
    [{ name: undefined }, 'name'],
    [{ name: '' }, 'name'],
    [{ name: ' \t ' }, 'name'],
    [{ type: 'nope' }, 'type'],
    [{ projectId: '' }, 'projectId'],
    [{ cronExpression: undefined }, 'cronExpression'],
    [{ cronExpression: ['* * * * *'] }, 'cronExpression'],
    [{ enabled: 1 }, 'enabled'],
    [{ timeoutSeconds: 7 * 24 * 3600 + 1 }, 'timeoutSeconds'],
    [{ timeoutSeconds: '60' }, 'timeoutSeconds'],
    [{ extra: true }, 'extra'],
    [{ backupConfig: null }, 'backupConfig'],
    [{ backupConfig: [] }, 'backupConfig'],
    [{ backupConfig: { retention: { maxAgeDays: -1 } } }, 'backupConfig.retention.maxAgeDays'],
    [{ backupConfig: { hooks: { after: [{ container: 'db', command: '' }] } } }, 'backupConfig.hooks.after.0.command'],
    [{ customConfig: { command: 'x'.repeat(10_001) } }, 'customConfig.command'],
  ])('rejects %j naming %s', async (change, field) => {
    const body: Record<string, unknown> = { ...valid, ...change };
    for (const key of Object.keys(change)) if ((change as Record<string, unknown>)[key] === undefined) delete body[key];
    expect(await fieldsRejected(CreateTaskDto, body)).toContain(field);
  });

  it('does not coerce types', async () => {
    expect(await fieldsRejected(CreateTaskDto, { ...valid, enabled: 'false' })).toEqual(['enabled']);
  });

  it('allows customConfig.container to be null (a host command)', async () => {
    const dto = await pipe.transform({ ...valid, type: 'custom', customConfig: { command: 'ls', container: null } }, asBody(CreateTaskDto));
    expect(dto.customConfig?.container).toBeNull();
  });
});

describe('UpdateTaskDto', () => {
  it('accepts an empty body and any subset', async () => {
    await expect(pipe.transform({}, asBody(UpdateTaskDto))).resolves.toBeInstanceOf(UpdateTaskDto);
    await expect(pipe.transform({ enabled: false }, asBody(UpdateTaskDto))).resolves.toMatchObject({ enabled: false });
  });

  it('refuses null for a field that cannot be empty', async () => {
    expect(await fieldsRejected(UpdateTaskDto, { name: null })).toEqual(['name']);
    expect(await fieldsRejected(UpdateTaskDto, { cronExpression: null })).toEqual(['cronExpression']);
  });
});

describe('ListTasksQueryDto', () => {
  it('turns query strings into typed values', async () => {
    const query = await pipe.transform({ enabled: 'false', limit: '25', offset: '50', type: 'custom' }, asQuery(ListTasksQueryDto));
    expect(query).toMatchObject({ enabled: false, limit: 25, offset: 50, type: 'custom' });
  });

  it.each([{ enabled: 'no' }, { enabled: '1' }, { limit: '0' }, { limit: '1001' }, { limit: '1e3' }, { offset: '-5' }, { page: '2' }])(
    'rejects %j',
    async (query) => {
      expect((await fieldsRejected(ListTasksQueryDto, query, 'query')).length).toBeGreaterThan(0);
    },
  );
});

describe('resolveTaskConfig', () => {
  it('fills every documented default', () => {
    expect(resolveTaskConfig('health-check', undefined)).toEqual({
      checkContainers: true,
      checkConnectivity: true,
      alertOnFailure: false,
      endpoints: [],
    });
    expect(resolveTaskConfig('backup', {})).toEqual({
      type: 'full',
      destination: 'local',
      encrypt: false,
      stopContainers: false,
      retention: null,
      hooks: { before: [], after: [] },
    });
    expect(resolveTaskConfig('container-update', {})).toEqual({ pullImages: true, restartAfterUpdate: true });
    expect(resolveTaskConfig('custom', { command: 'ls' })).toEqual({ command: 'ls', container: null });
  });

  it('keeps what was given, and only the retention rules that were set', () => {
    expect(resolveTaskConfig('backup', { encrypt: true, retention: { maxAgeDays: 30 } })).toMatchObject({
      encrypt: true,
      retention: { maxAgeDays: 30 },
    });
    expect(resolveTaskConfig('backup', { retention: {} }).retention).toBeNull();
    expect(resolveTaskConfig('health-check', { alertOnFailure: true, endpoints: [{ url: 'http://127.0.0.1', expectStatus: 204 }] })).toEqual({
      checkContainers: true,
      checkConnectivity: true,
      alertOnFailure: true,
      endpoints: [{ url: 'http://127.0.0.1', expectStatus: 204, timeoutMs: 5000 }],
    });
  });
});
