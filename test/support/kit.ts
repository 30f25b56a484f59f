import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/** The shared test kit's small tools: one of each, imported by every test that needs it. */

export { eventually, sleep } from './timing.js';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: Array<{ field: string; message: string }>;
  [extension: string]: unknown;
}

/**
 * Asserts the RFC 9457 shape every error shares (status, code, type, title, detail, and the
 * request id of the X-Request-Id header) and returns the parsed problem.
 */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): ProblemBody {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json<ProblemBody>();
  expect(problem).toMatchObject({ status, code });
  expect(typeof problem.type).toBe('string');
  expect(typeof problem.title).toBe('string');
  expect(typeof problem.detail).toBe('string');
  expect(problem.requestId).toBeTruthy();
  expect(problem.requestId).toBe(response.headers['x-request-id']);
  return problem;
}
