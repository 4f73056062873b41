import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/dto/api-errors.decorator';
import { CurrentPrincipal, RequireAllProjects, RequirePermissions } from '../permissions/permissions.decorators';
import type { Principal } from '../permissions/principal';
import {
  CreateProjectDto,
  mapProject,
  ProjectDeletedResponseDto,
  ProjectDto,
  ProjectListResponseDto,
  ProjectWriteResponseDto,
  UpdateProjectDto,
} from './dto/project.dto';
import { mapProjectContainer, ProjectContainersResponseDto } from './dto/project-container.dto';
import { ProjectsService } from './projects.service';

@ApiTags('Projects')
@Controller('projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @RequirePermissions('projects:read')
  @ApiOperation({ summary: 'List projects' })
  @ApiOkResponse({ type: ProjectListResponseDto })
  async list(@CurrentPrincipal() principal: Principal): Promise<ProjectListResponseDto> {
    const projects = await this.projects.list(principal);
    return { projects: projects.map(mapProject) };
  }

  @Post()
  @RequirePermissions('projects:write')
  @RequireAllProjects()
  @ApiOperation({ summary: 'Create a project', description: 'The id is the Docker Compose project name. Project-scoped keys cannot create projects.' })
  @ApiCreatedResponse({ type: ProjectWriteResponseDto })
  @ApiErrors(400, 'Validation failed')
  @ApiErrors(409, 'Project already exists')
  async create(@Body() body: CreateProjectDto): Promise<ProjectWriteResponseDto> {
    return { success: true, project: mapProject(await this.projects.create(body)) };
  }

  @Get(':id')
  @RequirePermissions('projects:read')
  @ApiOperation({ summary: 'Get a project' })
  @ApiOkResponse({ type: ProjectDto })
  @ApiErrors(404, 'Project not found')
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ProjectDto> {
    return mapProject(await this.projects.get(principal, id));
  }

  @Get(':id/containers')
  @RequirePermissions('projects:read')
  @ApiOperation({
    summary: "List a project's containers, live from its engine",
    description: 'Containers labelled com.docker.compose.project=<id>, with state, health, image and ports. 503 when the engine does not answer.',
  })
  @ApiOkResponse({ type: ProjectContainersResponseDto })
  @ApiErrors(404, 'Project not found')
  @ApiErrors(503, 'Container engine unavailable')
  async containers(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ProjectContainersResponseDto> {
    const containers = await this.projects.containers(principal, id);
    return { projectId: id, containers: containers.map(mapProjectContainer) };
  }

  @Put(':id')
  @RequirePermissions('projects:write')
  @ApiOperation({ summary: 'Update a project', description: 'Partial: absent fields stay.' })
  @ApiOkResponse({ type: ProjectWriteResponseDto })
  @ApiErrors(400, 'Validation failed')
  @ApiErrors(404, 'Project not found')
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: UpdateProjectDto,
  ): Promise<ProjectWriteResponseDto> {
    return { success: true, project: mapProject(await this.projects.update(principal, id, body)) };
  }

  @Delete(':id')
  @HttpCode(200)
  @RequirePermissions('projects:write')
  @ApiOperation({ summary: 'Delete a project', description: 'Refused (409) while tasks reference it.' })
  @ApiOkResponse({ type: ProjectDeletedResponseDto })
  @ApiErrors(404, 'Project not found')
  @ApiErrors(409, 'Project has tasks')
  async delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ProjectDeletedResponseDto> {
    await this.projects.delete(principal, id);
    return { success: true, message: 'Project deleted' };
  }
}
