import { Controller, Get, Header, type Type } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public, RequirePermissions } from '../permissions/permissions.decorators';
import { MetricsService } from './metrics.service';

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

function metricsController(access: 'key' | 'public'): Type {
  @ApiTags('Metrics')
  @Controller('metrics')
  class MetricsController {
    constructor(private readonly metrics: MetricsService) {}

    @Get()
    @(access === 'public' ? Public() : RequirePermissions('tasks:read'))
    @Header('Content-Type', PROMETHEUS_TEXT)
    @ApiOperation({
      summary: 'Prometheus metrics',
      description: 'Runs by type and status, run durations, firing lateness, scheduled tasks, each replica\'s last scheduler tick.',
    })
    @ApiProduces('text/plain')
    @ApiOkResponse({ description: 'Prometheus text format', type: String })
    render(): Promise<string> {
      return this.metrics.render();
    }
  }
  return MetricsController;
}

/** `METRICS_ACCESS=public` serves /metrics without a key; by default it takes `tasks:read`. */
export const PublicMetricsController = metricsController('public');
export const KeyedMetricsController = metricsController('key');
