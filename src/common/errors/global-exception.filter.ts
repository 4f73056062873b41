import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from './domain-errors';

export interface ErrorBody {
  success: false;
  error: string;
  details?: unknown;
}

const MESSAGES_BY_STATUS: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  408: 'Request timeout',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  429: 'Too many requests',
};

/** Framework errors (unknown routes, body parsing) that carry an HTTP status of their own. */
function statusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** Maps every error to the `{success:false, error}` envelope; 500s reveal nothing internal. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof DomainError) {
    const body: ErrorBody = { success: false, error: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { status: error.status, body };
  }
  const status = statusOf(error);
  if (status !== undefined) {
    const body: ErrorBody = { success: false, error: MESSAGES_BY_STATUS[status] ?? 'Request failed' };
    // Fastify's body-parser errors reach Nest wrapped in an HttpException.
    const parserError = (error as { cause?: { code?: unknown } }).cause ?? error;
    const code = (parserError as { code?: unknown }).code;
    if (status === 400 && typeof code === 'string' && code.startsWith('FST_ERR_CTP')) {
      body.error = 'Malformed request body';
      body.details = (error as Error).message;
    }
    return { status, body };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { success: false, error: 'Internal server error' } };
}

@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, body } = toErrorResponse(error);
    if (status >= 500 && !(error instanceof DomainError)) {
      this.logger.error({
        message: 'Unhandled error',
        requestId: request.id,
        method: request.method,
        route: request.routeOptions?.url,
        error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      });
    }
    void reply.status(status).send(body);
  }
}
