import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, problemFor, type ErrorCode, type FieldError } from './errors.js';

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

// Fastify's own client errors, by code, mapped to ours.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
};

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  const { errors, headers, ...extensions } = error.extra;
  if (headers) void reply.headers(headers);
  return reply
    .status(error.status)
    .type('application/problem+json')
    .send(
      problemFor(error.code, error.message, String(reply.request.id), {
        ...extensions,
        ...(errors ? { errors } : {}),
      }),
    );
}

/** Turns every failure, expected or not, into a problem document; 5xx never shows internals. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    return sendProblem(reply, toAppError(error, request));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new AppError(
        'ROUTE_NOT_FOUND',
        `No route for ${request.method} ${request.url.split('?')[0]}`,
      ),
    ),
  );
}

function toAppError(error: FastifyError, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const errors = (error.validation as AjvIssue[]).map((issue) =>
      describeIssue(issue, error.validationContext),
    );
    return new AppError(
      'VALIDATION_FAILED',
      errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      { errors },
    );
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) {
    const detail =
      mapped === 'MALFORMED_REQUEST' ? 'The body is not valid JSON' : (error.message ?? undefined);
    return new AppError(mapped, detail);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError(
      error.statusCode === 404 ? 'NOT_FOUND' : 'MALFORMED_REQUEST',
      error.message,
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return new AppError('INTERNAL_ERROR', 'Something went wrong on our side; it has been logged.');
}

function describeIssue(issue: AjvIssue, part: string | undefined): FieldError {
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const base = part && part !== 'body' ? `${part}${path ? '.' : ''}${path}` : path;
  if (issue.keyword === 'additionalProperties') {
    const name = String(issue.params.additionalProperty);
    return { field: base ? `${base}.${name}` : name, message: 'is not an accepted field' };
  }
  if (issue.keyword === 'required') {
    const name = String(issue.params.missingProperty);
    return { field: base ? `${base}.${name}` : name, message: 'is required' };
  }
  return { field: base || part || 'body', message: issue.message ?? 'is invalid' };
}
