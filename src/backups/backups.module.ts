import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DockerModule } from '../docker/docker.module';
import { ProjectsModule } from '../projects/projects.module';
import { ProjectLocksModule } from '../scheduler/project-locks.module';
import { BackupStores } from './backup-stores';
import { BackupsController } from './backups.controller';
import { BackupsRepository } from './backups.repository';
import { BackupsService } from './backups.service';
import { Backup } from './entities/backup.entity';

/** Where backups are kept and how they are listed and restored; the backup executor writes them. */
@Module({
  imports: [TypeOrmModule.forFeature([Backup]), DockerModule, ProjectsModule, ProjectLocksModule],
  controllers: [BackupsController],
  providers: [BackupsRepository, BackupStores, BackupsService],
  exports: [BackupsRepository, BackupStores],
})
export class BackupsModule {}
