import { ConsoleLogger, INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import { AppConfigService } from './config/app-config.service';
import { validateEnvironment, type Environment } from './config/environment';
import { createValidationPipe } from './common/validation-pipe';
import { GlobalExceptionFilter, toErrorResponse } from './common/errors/global-exception.filter';
import { ErrorResponseDto } from './common/dto/error-response.dto';

export const API_PREFIX = 'api/v1';
const REQUEST_ID_PATTERN = /^[\w.-]{1,64}$/;

function createLogger(environment: Environment): ConsoleLogger {
  const levels = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  return new ConsoleLogger({
    json: true,
    colors: false,
    logLevels: levels.slice(0, levels.indexOf(environment.LOG_LEVEL) + 1),
  });
}

function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Docker task scheduler')
    .setDescription(
      'Schedules and runs operational tasks for Docker projects: health checks, backups, container updates and custom commands, ' +
        'on cron schedules with time zones. Authorize with an API key (Bearer or X-API-Key). ' +
        'Every error is `{"success": false, "error": "<message>"}`, sometimes with `details`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key as a bearer token' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key' }, 'api-key')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto] });
  const errorSchema = { $ref: '#/components/schemas/ErrorResponseDto' };
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of Object.values(pathItem)) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      operation.responses['500'] ??= {
        description: 'Internal server error (details only in the log, under the X-Request-Id of the response)',
        content: { 'application/json': { schema: errorSchema, example: { success: false, error: 'Internal server error' } } },
      };
      if ('requestBody' in operation) {
        operation.responses['413'] ??= {
          description: 'Body larger than BODY_LIMIT_BYTES',
          content: { 'application/json': { schema: errorSchema, example: { success: false, error: 'Payload too large' } } },
        };
      }
    }
  }
  return document;
}

/** Builds the whole HTTP application; `main.ts` and the end-to-end tests share it. */
export async function createApp(rawEnvironment: Record<string, string | undefined> = process.env): Promise<NestFastifyApplication> {
  const environment = validateEnvironment(rawEnvironment);
  const adapter = new FastifyAdapter({
    bodyLimit: environment.BODY_LIMIT_BYTES,
    // A malformed URL or an over-long path parameter is answered by the router, before Nest.
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(error);
      void reply.status(status).send(body);
    },
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    },
  });
  const logger = createLogger(environment);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(environment), adapter, { logger, abortOnError: false });

  const fastify = app.getHttpAdapter().getInstance();
  // A POST without a body (e.g. /run) may still say it is JSON: treat it as no body, not as an error.
  const jsonParser = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: environment.BODY_LIMIT_BYTES }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else void jsonParser(request as FastifyRequest, body.toString('utf8'), done);
  });
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  if (environment.LOG_REQUESTS) {
    const requestLogger = new ConsoleLogger('HTTP', { json: true, colors: false });
    fastify.addHook('onResponse', async (request, reply) => {
      requestLogger.log({
        message: 'request',
        requestId: request.id,
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      });
    });
  }

  const config = app.get(AppConfigService);
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.useGlobalFilters(new GlobalExceptionFilter());
  app.useGlobalPipes(createValidationPipe());
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id'],
    });
  }

  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
  await app.init();
  return app;
}
