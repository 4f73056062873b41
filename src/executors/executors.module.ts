import { Module } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { CUSTOM_EXECUTOR_SETTINGS, CustomTaskExecutor, buildHostEnvironment, type CustomExecutorSettings } from './custom-task.executor';
import { resolveOsUser } from './os-user';
import type { TaskExecutors } from './task-executor';
import { UnavailableExecutor } from './unavailable.executor';

export const TASK_EXECUTORS = Symbol('TaskExecutors');

@Module({
  providers: [
    {
      provide: CUSTOM_EXECUTOR_SETTINGS,
      inject: [AppConfigService],
      useFactory: async (config: AppConfigService): Promise<CustomExecutorSettings> => {
        const user = config.customHostCommandsUser ? await resolveOsUser(config.customHostCommandsUser) : undefined;
        const environment = buildHostEnvironment(process.env);
        // The command runs as that user: it gets that user's home and name, not the service's.
        if (user) Object.assign(environment, { HOME: user.home, USER: user.name, LOGNAME: user.name });
        return {
          hostCommandsEnabled: config.customHostCommandsEnabled,
          hostCommandsUser: user,
          outputLimitBytes: config.outputLimitBytes,
          hostEnvironment: environment,
        };
      },
    },
    CustomTaskExecutor,
    {
      provide: TASK_EXECUTORS,
      inject: [CustomTaskExecutor],
      useFactory: (custom: CustomTaskExecutor): TaskExecutors => ({
        'health-check': new UnavailableExecutor('health-check'),
        backup: new UnavailableExecutor('backup'),
        'container-update': new UnavailableExecutor('container-update'),
        custom,
      }),
    },
  ],
  exports: [TASK_EXECUTORS],
})
export class ExecutorsModule {}
