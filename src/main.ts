import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.setup';
import { AppConfigService } from './config/app-config.service';
import { InvalidEnvironmentError } from './config/environment';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const config = app.get(AppConfigService);
  await app.listen({ port: config.port, host: config.host });
  Logger.log(`Listening on ${config.host}:${config.port}; API docs at /api/docs`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // Configuration errors are the operator's to fix: say which variable, without a stack trace.
  process.stderr.write(`${error instanceof InvalidEnvironmentError ? error.message : String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
