import { DynamicModule, Global, Module } from '@nestjs/common';
import { KeyedMetricsController, PublicMetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Global()
@Module({})
export class MetricsModule {
  static forRoot(access: 'key' | 'public'): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [access === 'public' ? PublicMetricsController : KeyedMetricsController],
      providers: [MetricsService],
      exports: [MetricsService],
    };
  }
}
