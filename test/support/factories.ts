import { randomBytes } from 'node:crypto';
import type { ApiClient } from './api-client';

const unique = () => randomBytes(4).toString('hex');

export async function createProject(api: ApiClient, overrides: Record<string, unknown> = {}) {
  const id = `p-${unique()}`;
  const response = await api.post('/api/v1/projects', { id, name: `Project ${id}`, ...overrides });
  if (response.status !== 201) throw new Error(`createProject: ${response.status} ${response.text}`);
  return response.body.project as { id: string; name: string };
}

export function taskBody(projectId: string, overrides: Record<string, unknown> = {}) {
  return {
    name: `Task ${unique()}`,
    type: 'health-check',
    projectId,
    cronExpression: '*/5 * * * *',
    ...overrides,
  };
}

export async function createTask(api: ApiClient, projectId: string, overrides: Record<string, unknown> = {}) {
  const response = await api.post('/api/v1/tasks', taskBody(projectId, overrides));
  if (response.status !== 201) throw new Error(`createTask: ${response.status} ${response.text}`);
  return response.body.task as Record<string, any> & { id: string };
}

export async function createApiKey(
  api: ApiClient,
  permissions: string[],
  extra: { projectIds?: string[] | null; expiresAt?: string } = {},
): Promise<{ id: string; key: string }> {
  const response = await api.post('/api/v1/api-keys', { name: `key ${unique()}`, permissions, ...extra });
  if (response.status !== 201) throw new Error(`createApiKey: ${response.status} ${response.text}`);
  return { id: response.body.apiKey.id, key: response.body.key };
}
