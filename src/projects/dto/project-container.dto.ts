import { ApiProperty } from '@nestjs/swagger';
import type { ProjectContainer } from '../../docker/project-containers';

export class PublishedPortDto {
  @ApiProperty({ example: 80 })
  containerPort: number;

  @ApiProperty({ example: 'tcp' })
  protocol: string;

  @ApiProperty({ nullable: true, type: Number, example: 8080, description: 'null: exposed, not published' })
  hostPort: number | null;

  @ApiProperty({ nullable: true, type: String, example: '127.0.0.1' })
  hostIp: string | null;
}

export class ProjectContainerDto {
  @ApiProperty({ example: 'production-web-1' })
  name: string;

  @ApiProperty({ example: '3f4e1c2a9b7d…' })
  id: string;

  @ApiProperty({ nullable: true, type: String, example: 'web', description: 'com.docker.compose.service' })
  service: string | null;

  @ApiProperty({ example: 'nginx:1.27' })
  image: string;

  @ApiProperty({ example: 'sha256:…' })
  imageId: string;

  @ApiProperty({ example: 'running', description: 'As the engine reports it: running, exited, paused, restarting, created, dead' })
  state: string;

  @ApiProperty({ nullable: true, enum: ['healthy', 'unhealthy', 'starting'], example: 'healthy', description: 'null: no HEALTHCHECK' })
  health: 'healthy' | 'unhealthy' | 'starting' | null;

  @ApiProperty({ type: [PublishedPortDto] })
  ports: PublishedPortDto[];
}

export class ProjectContainersResponseDto {
  @ApiProperty({ example: 'production' })
  projectId: string;

  @ApiProperty({ type: [ProjectContainerDto] })
  containers: ProjectContainerDto[];
}

export function mapProjectContainer(container: ProjectContainer): ProjectContainerDto {
  return {
    name: container.name,
    id: container.id,
    service: container.service,
    image: container.image,
    imageId: container.imageId,
    state: container.state,
    health: container.health,
    ports: container.ports.map((port) => ({ ...port })),
  };
}
