import type {
  BackupConfigDto,
  ContainerUpdateConfigDto,
  CustomConfigDto,
  HealthCheckConfigDto,
} from './dto/task-config.dto';
import {
  DEFAULT_ENDPOINT_EXPECT_STATUS,
  DEFAULT_ENDPOINT_TIMEOUT_MS,
  type TaskConfigByType,
} from './task-config';
import type { TaskType } from './task-type';

interface ConfigInputByType {
  'health-check': HealthCheckConfigDto;
  backup: BackupConfigDto;
  'container-update': ContainerUpdateConfigDto;
  custom: CustomConfigDto;
}

const RESOLVERS: { [K in TaskType]: (input: Partial<ConfigInputByType[K]>) => TaskConfigByType[K] } = {
  'health-check': (input) => ({
    checkContainers: input.checkContainers ?? true,
    checkConnectivity: input.checkConnectivity ?? true,
    alertOnFailure: input.alertOnFailure ?? false,
    endpoints: (input.endpoints ?? []).map((endpoint) => ({
      url: endpoint.url,
      expectStatus: endpoint.expectStatus ?? DEFAULT_ENDPOINT_EXPECT_STATUS,
      timeoutMs: endpoint.timeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS,
    })),
  }),
  backup: (input) => {
    const { keepLast, maxAgeDays } = input.retention ?? {};
    return {
      type: input.type ?? 'full',
      destination: input.destination ?? 'local',
      encrypt: input.encrypt ?? false,
      stopContainers: input.stopContainers ?? false,
      retention:
        keepLast === undefined && maxAgeDays === undefined
          ? null
          : { ...(keepLast !== undefined && { keepLast }), ...(maxAgeDays !== undefined && { maxAgeDays }) },
      hooks: {
        before: (input.hooks?.before ?? []).map(({ container, command }) => ({ container, command })),
        after: (input.hooks?.after ?? []).map(({ container, command }) => ({ container, command })),
      },
    };
  },
  'container-update': (input) => ({
    pullImages: input.pullImages ?? true,
    restartAfterUpdate: input.restartAfterUpdate ?? true,
  }),
  custom: (input) => ({ command: input.command ?? '', container: input.container ?? null }),
};

/** Fills what a request omitted with the documented defaults (README "Task types"). */
export function resolveTaskConfig<T extends TaskType>(
  type: T,
  input: Partial<ConfigInputByType[T]> | undefined,
): TaskConfigByType[T] {
  return RESOLVERS[type](input ?? {});
}
