import { DynamicModule, Module } from '@nestjs/common';
import { AppConfigModule } from './config/app-config.module';
import type { Environment } from './config/environment';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PermissionsModule } from './permissions/permissions.module';
import { ProjectsModule } from './projects/projects.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class AppModule {
  static forRoot(environment: Environment): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(environment),
        DatabaseModule,
        MetricsModule.forRoot(environment.METRICS_ACCESS),
        PermissionsModule,
        ProjectsModule,
        TasksModule,
        SchedulerModule,
        HealthModule,
      ],
    };
  }
}
