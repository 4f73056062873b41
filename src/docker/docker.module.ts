import { Module } from '@nestjs/common';
import { DockerEngines } from './docker-engines';
import { ProjectContainers } from './project-containers';

/** Access to container engines: the default one (DOCKER_HOST) and those projects name. */
@Module({
  providers: [DockerEngines, ProjectContainers],
  exports: [DockerEngines, ProjectContainers],
})
export class DockerModule {}
