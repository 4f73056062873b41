import { Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AlertsModule } from '../alerts/alerts.module';
import { ExecutorsModule } from '../executors/executors.module';
import { TasksModule } from '../tasks/tasks.module';
import { SchedulerReplica } from './entities/scheduler-replica.entity';
import { ExecutionsController } from './executions.controller';
import { ExecutionsService } from './executions.service';
import { ProjectLocksModule } from './project-locks.module';
import { RunsService } from './runs.service';
import { CLOCK, RegistryScheduleTimers, SCHEDULE_TIMERS, systemClock, type Clock } from './schedule-timers';
import { SchedulerRepository } from './scheduler.repository';
import { SchedulerService } from './scheduler.service';
import { TaskChangesListener } from './task-changes.listener';

@Module({
  imports: [ScheduleModule.forRoot(), TypeOrmModule.forFeature([SchedulerReplica]), ProjectLocksModule, TasksModule, ExecutorsModule, AlertsModule],
  controllers: [ExecutionsController],
  providers: [
    { provide: CLOCK, useValue: systemClock },
    {
      provide: SCHEDULE_TIMERS,
      inject: [SchedulerRegistry, CLOCK],
      useFactory: (registry: SchedulerRegistry, clock: Clock) => new RegistryScheduleTimers(registry, clock),
    },
    SchedulerRepository,
    RunsService,
    SchedulerService,
    ExecutionsService,
    TaskChangesListener,
  ],
  exports: [SchedulerService],
})
export class SchedulerModule {}
