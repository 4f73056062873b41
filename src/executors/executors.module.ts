import { Module } from '@nestjs/common';
import { BackupsModule } from '../backups/backups.module';
import { AppConfigService } from '../config/app-config.service';
import { DockerModule } from '../docker/docker.module';
import { ProjectsModule } from '../projects/projects.module';
import { BackupExecutor } from './backup.executor';
import { ContainerUpdateExecutor } from './container-update.executor';
import { HealthCheckExecutor } from './health-check.executor';
import { CUSTOM_EXECUTOR_SETTINGS, CustomTaskExecutor, buildHostEnvironment, type CustomExecutorSettings } from './custom-task.executor';
import { resolveOsUser } from './os-user';
import type { TaskExecutors } from './task-executor';

export const TASK_EXECUTORS = Symbol('TaskExecutors');

@Module({
  imports: [DockerModule, ProjectsModule, BackupsModule],
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
    ContainerUpdateExecutor,
    HealthCheckExecutor,
    BackupExecutor,
    {
      provide: TASK_EXECUTORS,
      inject: [HealthCheckExecutor, BackupExecutor, ContainerUpdateExecutor, CustomTaskExecutor],
      useFactory: (
        healthCheck: HealthCheckExecutor,
        backup: BackupExecutor,
        containerUpdate: ContainerUpdateExecutor,
        custom: CustomTaskExecutor,
      ): TaskExecutors => ({
        'health-check': healthCheck,
        backup,
        'container-update': containerUpdate,
        custom,
      }),
    },
  ],
  exports: [TASK_EXECUTORS, ContainerUpdateExecutor],
})
export class ExecutorsModule {}
