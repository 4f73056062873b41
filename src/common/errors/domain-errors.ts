/** A field-level problem reported with `Validation failed`. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * Errors the service means to report. The global exception filter turns each into
 * `{success:false, error: message, details?}` with its status; anything else is a 500.
 */
export abstract class DomainError extends Error {
  abstract readonly status: number;

  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailedError extends DomainError {
  readonly status = 400;
  constructor(details: FieldError[]) {
    super('Validation failed', details);
  }
}

export class InvalidCronExpressionError extends DomainError {
  readonly status = 400;
  constructor(reason: string) {
    super('Invalid cron expression', reason);
  }
}

export class InvalidTimezoneError extends DomainError {
  readonly status = 400;
  constructor(timezone: string) {
    super('Invalid timezone', `"${timezone}" is not an IANA time zone name`);
  }
}

/** A referenced project (in a request body) that does not exist or is out of the key's scope. */
export class ProjectNotFoundError extends DomainError {
  readonly status = 400;
  constructor() {
    super('Project not found');
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
}

export class TaskNotFoundError extends NotFoundError {
  constructor() {
    super('Task not found');
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  constructor() {
    super('Unauthorized');
  }
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  constructor(reason: string) {
    super('Forbidden', reason);
  }
}

/** The project's container engine did not answer: the request was fine, the engine is down. */
export class EngineUnavailableError extends DomainError {
  readonly status = 503;
  constructor(reason: string) {
    super('Container engine unavailable', reason);
  }
}
