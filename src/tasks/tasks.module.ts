import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProjectsModule } from '../projects/projects.module';
import { CronEvaluator } from './cron-evaluator';
import { CronController } from './cron.controller';
import { Execution } from './entities/execution.entity';
import { Task } from './entities/task.entity';
import { ExecutionsRepository } from './executions.repository';
import { TaskChanges } from './task-changes';
import { TasksController } from './tasks.controller';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';

@Module({
  imports: [TypeOrmModule.forFeature([Task, Execution]), ProjectsModule],
  controllers: [TasksController, CronController],
  providers: [TasksRepository, ExecutionsRepository, TasksService, CronEvaluator, TaskChanges],
  exports: [TasksRepository, ExecutionsRepository, TasksService, CronEvaluator, TaskChanges],
})
export class TasksModule {}
