// Typed domain errors with stable codes; src/http/errors.ts maps them to HTTP statuses in one place.

export interface FieldIssue {
  field: string;
  message: string;
}

export class DomainError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, status: number, message: string, options: { field?: string; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.field = options.field;
    this.details = options.details;
  }
}

/** 422: the request is well-formed but a field's value is not acceptable. */
export class ValidationError extends DomainError {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[] | FieldIssue, code = 'validation_failed') {
    const list = Array.isArray(issues) ? issues : [issues];
    const first = list[0];
    super(code, 422, first ? `${first.field}: ${first.message}` : 'invalid input', first ? { field: first.field } : {});
    this.issues = list;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, code = `${what}_not_found`, field?: string) {
    super(code, 404, `${what.replaceAll('_', ' ')} not found`, field ? { field } : {});
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string, options: { field?: string; details?: Record<string, unknown> } = {}) {
    super(code, 409, message, options);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'this role may not do that') {
    super('forbidden', 403, message);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'a valid bearer token is required') {
    super('unauthorized', 401, message);
  }
}

/**
 * A process cannot start (bad configuration, unusable database). Entry points print its message,
 * one line per problem, and exit 1 without a stack trace: the operator needs the cause, not our
 * call stack.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
