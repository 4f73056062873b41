import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation';
import type { Project } from '../entities/project.entity';

/** A Docker Compose project name: what `com.docker.compose.project` carries. */
export const PROJECT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
const DOCKER_HOST_PATTERN = /^(unix|tcp|ssh|http|https):\/\/\S+$/;

/** Fields a project may leave out, on create as on update. */
class ProjectOptionalFieldsDto {
  @ApiPropertyOptional({ nullable: true, example: 'Customer-facing stack', maxLength: 2000 })
  @IsOptional() @IsString() @Length(0, 2000)
  description?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    example: 'unix:///var/run/docker.sock',
    description: 'The engine for this project, as DOCKER_HOST reads it; null = the default engine',
  })
  @IsOptional() @IsString() @Length(1, 500)
  @Matches(DOCKER_HOST_PATTERN, { message: 'dockerHost must be a unix://, tcp://, ssh:// or http(s):// address' })
  dockerHost?: string | null;
}

export class CreateProjectDto extends ProjectOptionalFieldsDto {
  @ApiProperty({ example: 'production', description: 'The Docker Compose project name (lower-case letters, digits, - and _)' })
  @IsString() @Length(1, 63)
  @Matches(PROJECT_ID_PATTERN, { message: 'id must be a Compose project name: lower-case letters, digits, - and _, starting with a letter or digit' })
  id: string;

  @ApiProperty({ example: 'Production', maxLength: 200 })
  @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' })
  name: string;
}

export class UpdateProjectDto extends ProjectOptionalFieldsDto {
  @ApiPropertyOptional({ example: 'Production', maxLength: 200 })
  @IsOptionalNotNull() @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;
}

export class ProjectDto {
  @ApiProperty({ example: 'production' })
  id: string;

  @ApiProperty({ example: 'Production' })
  name: string;

  @ApiProperty({ nullable: true, type: String, example: 'Customer-facing stack' })
  description: string | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  dockerHost: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class ProjectListResponseDto {
  @ApiProperty({ type: [ProjectDto] })
  projects: ProjectDto[];
}

export class ProjectWriteResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ type: ProjectDto })
  project: ProjectDto;
}

export class ProjectDeletedResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ example: 'Project deleted' })
  message: string;
}

export function mapProject(project: Project): ProjectDto {
  return {
    id: project.id,
    name: project.name,
    description: project.description,
    dockerHost: project.dockerHost,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}
