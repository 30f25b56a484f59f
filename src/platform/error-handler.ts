import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
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
  // Also for the answers Fastify gives before any hook has run (a URL it cannot route).
  void reply.header('x-request-id', reply.request.id);
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

/**
 * Turns every failure, expected or not, into a problem document; 5xx never shows internals.
 * `pageFallback` (the web app's index.html) may answer an unmatched browser navigation first.
 */
export function registerErrorHandling(
  app: FastifyInstance,
  pageFallback?: (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>,
): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    return sendProblem(reply, toAppError(error, request));
  });

  app.setNotFoundHandler(async (request, reply) => {
    if (pageFallback && (await pageFallback(request, reply))) return reply;
    return sendProblem(
      reply,
      new AppError(
        'ROUTE_NOT_FOUND',
        `No route for ${request.method} ${request.url.split('?')[0]}`,
      ),
    );
  });
}

/**
 * Fastify's router refusals (the `frameworkErrors` server option), which it would otherwise
 * answer with plain JSON and no request id: a URL with a broken %-escape, a path parameter
 * longer than the router takes.
 */
export function frameworkErrors(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error.code === 'FST_ERR_BAD_URL') {
    return sendProblem(reply, new AppError('MALFORMED_REQUEST', 'The URL is not valid'));
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendProblem(
      reply,
      new AppError('URI_TOO_LONG', 'A path segment of the URL is too long'),
    );
  }
  return sendProblem(reply, toAppError(error, request));
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (the `clientErrorHandler`
 * option): headers past the size limit, a request that does not arrive in time, bytes that are
 * not HTTP. A problem document like every other answer, then the connection is closed, and
 * the answer says so: the client must not send its next request on this socket.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'HEADERS_TOO_LARGE'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'REQUEST_TIMEOUT'
        : 'MALFORMED_REQUEST';
  const requestId = randomUUID();
  const problem = problemFor(
    code,
    code === 'MALFORMED_REQUEST' ? 'The request is not valid HTTP' : new AppError(code).message,
    requestId,
  );
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  // Closed once the answer is out; at the latest after a second.
  setTimeout(() => socket.destroy(), 1000).unref();
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
