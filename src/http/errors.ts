// The one mapping from errors to HTTP responses. Bodies always name the code and, when known, the field.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainError, ValidationError } from '../platform/errors.ts';

export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  issues?: { field: string; message: string }[];
  details?: Record<string, unknown>;
}

function fieldPath(instancePath: string | undefined, params: Record<string, unknown> | undefined): string {
  const base = (instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const missing = params && typeof params.missingProperty === 'string' ? params.missingProperty : undefined;
  // zod's unrecognized_keys issue names the unknown keys: point at the first, not at the object.
  const unknownKey = params && Array.isArray(params.keys) && typeof params.keys[0] === 'string' ? params.keys[0] : undefined;
  return [base, missing ?? unknownKey].filter(Boolean).join('.') || '(body)';
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const issues = error.validation.map((v) => ({
      field: fieldPath(v.instancePath, v.params as Record<string, unknown>),
      message: v.message ?? 'invalid',
    }));
    const first = issues[0];
    const body: ErrorBody = {
      error: 'validation_failed',
      message: first ? `${where} ${first.field}: ${first.message}` : `invalid ${where}`,
      ...(first ? { field: first.field } : {}),
      issues,
    };
    return reply.code(400).send(body);
  }
  if (error instanceof ValidationError) {
    // Keys in the schema's order (errorBody), so the hot routes' unchecked answers read the same.
    const body: ErrorBody = { error: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), issues: error.issues };
    if (error.details) body.details = error.details;
    return reply.code(error.status).send(body);
  }
  if (error instanceof DomainError) {
    const body: ErrorBody = { error: error.code, message: error.message };
    if (error.field) body.field = error.field;
    if (error.details) body.details = error.details;
    return reply.code(error.status).send(body);
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error }, 'response did not match its schema');
    return reply.code(500).send({ error: 'internal_error', message: 'internal error' });
  }
  // Fastify's own 4xx (malformed JSON, body too large, unsupported media type).
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return reply.code(error.statusCode).send({ error: error.code ?? 'bad_request', message: error.message, field: '(body)' });
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.code(500).send({ error: 'internal_error', message: 'internal error' });
}
