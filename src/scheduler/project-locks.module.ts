import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProjectLock } from './entities/project-lock.entity';
import { ProjectLocksRepository } from './project-locks.repository';

/** The per-project lock, for the runner and for restores. */
@Module({
  imports: [TypeOrmModule.forFeature([ProjectLock])],
  providers: [ProjectLocksRepository],
  exports: [ProjectLocksRepository],
})
export class ProjectLocksModule {}
