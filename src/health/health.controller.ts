import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../permissions/permissions.decorators';
import { HealthService } from './health.service';

class LivenessDto {
  @ApiProperty({ example: 'ok' })
  status: 'ok';
}

class ReadinessDto {
  @ApiProperty({
    example: 'ok',
    enum: ['ok', 'degraded', 'unavailable'],
    description: 'degraded: ready (200), but the container engine does not answer, so runs on it fail',
  })
  status: 'ok' | 'degraded' | 'unavailable';

  @ApiProperty({
    example: { database: { status: 'up' }, scheduler: { status: 'up' }, engine: { status: 'up' } },
    description: 'Each component, and why it is down',
  })
  checks: Record<string, { status: 'up' | 'down'; message?: string }>;

  @ApiPropertyOptional({ example: false, description: 'Only when not ready, as in every error' })
  success?: false;

  @ApiPropertyOptional({ example: 'Not ready', description: 'Only when not ready' })
  error?: string;
}

@ApiTags('Health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers and the scheduler ticks', description: '503 says which component is down. The container engine is checked too: when it does not answer the status is degraded (still 200), with the reason.' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ReadinessDto })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessDto> {
    const { ready, degraded, checks } = await this.health.readiness();
    if (ready) return { status: degraded ? 'degraded' : 'ok', checks };
    void reply.status(503);
    return { success: false, error: 'Not ready', status: 'unavailable', checks };
  }
}
