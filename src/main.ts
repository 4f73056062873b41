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

  // Nest's own shutdown hooks re-raise the signal after closing; an orderly stop should exit 0.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    Logger.log(`${signal} received: closing`, 'Bootstrap');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        Logger.error(`Shutdown failed: ${String(error)}`, 'Bootstrap');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

bootstrap().catch((error: unknown) => {
  // Configuration errors are the operator's to fix: say which variable, without a stack trace.
  process.stderr.write(`${error instanceof InvalidEnvironmentError ? error.message : String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
