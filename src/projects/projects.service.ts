import { Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError } from '../common/errors/domain-errors';
import { ProjectContainers, type ProjectContainer } from '../docker/project-containers';
import { canAccessProject, type Principal } from '../permissions/principal';
import type { CreateProjectDto, UpdateProjectDto } from './dto/project.dto';
import { Project } from './entities/project.entity';
import { ProjectsRepository } from './projects.repository';

@Injectable()
export class ProjectsService {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly projectContainers: ProjectContainers,
  ) {}

  list(principal: Principal): Promise<Project[]> {
    return this.projects.findAll(principal.projectIds);
  }

  /** A project outside the key's scope behaves as if it did not exist. */
  async get(principal: Principal, id: string): Promise<Project> {
    const project = canAccessProject(principal, id) ? await this.projects.findById(id) : null;
    if (!project) throw new NotFoundError('Project not found');
    return project;
  }

  /** Live from the project's engine. */
  async containers(principal: Principal, id: string): Promise<ProjectContainer[]> {
    return this.projectContainers.list(await this.get(principal, id));
  }

  /** Only keys for every project get here (`@RequireAllProjects`). */
  async create(request: CreateProjectDto): Promise<Project> {
    if (await this.projects.exists(request.id)) throw new ConflictError('Project already exists');
    const project = new Project();
    project.id = request.id;
    project.name = request.name;
    project.description = request.description ?? null;
    project.dockerHost = request.dockerHost ?? null;
    return this.projects.insert(project);
  }

  async update(principal: Principal, id: string, request: UpdateProjectDto): Promise<Project> {
    const project = await this.get(principal, id);
    if (request.name !== undefined) project.name = request.name;
    if (request.description !== undefined) project.description = request.description;
    if (request.dockerHost !== undefined) project.dockerHost = request.dockerHost;
    return this.projects.save(project);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.get(principal, id);
    const taskCount = await this.projects.deleteUnlessReferenced(id);
    if (taskCount > 0) {
      throw new ConflictError('Project has tasks', `Delete or move its ${taskCount} task(s) first`);
    }
  }
}
