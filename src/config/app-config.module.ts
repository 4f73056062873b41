import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfigService } from './app-config.service';
import { Environment } from './environment';

/** Holds the environment validated at start-up (`validateEnvironment`), read through `AppConfigService`. */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(environment: Environment): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [{ provide: Environment, useValue: environment }, AppConfigService],
      exports: [AppConfigService],
    };
  }
}
