import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createTestAppWithOrganizer, type SignedIn, type TestApp } from './support/test-app.js';
import { inDays } from './support/fixtures.js';
import { expectProblem } from './support/kit.js';

let t: TestApp;
let organizer: SignedIn;
beforeAll(async () => {
  ({ t, organizer } = await createTestAppWithOrganizer());
});
afterAll(() => t?.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const validEvent = () => {
  const startsAt = inDays(20);
  return {
    name: 'Validation Night',
    description: 'x',
    startsAt,
    endsAt: new Date(new Date(startsAt).getTime() + 3_600_000).toISOString(),
    seating: 'general',
    capacity: 50,
    priceCents: 1000,
    currency: 'EUR',
  };
};

const postEvent = (payload: Record<string, unknown>) =>
  t.inject({ method: 'POST', url: '/api/v1/events', headers: organizer.auth, payload });

describe('unknown routes', () => {
  it('answers 404 ROUTE_NOT_FOUND as a problem document when no route matches', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/no-such-thing?x=1' });
    const problem = expectProblem(response, 404, 'ROUTE_NOT_FOUND');
    expect(problem.type).toBe('/problems/route-not-found');
    expect(problem.detail).toContain('/api/v1/no-such-thing');
    expect(problem.detail).not.toContain('x=1');
  });
});

describe('malformed bodies', () => {
  it('answers 400 MALFORMED_REQUEST when the JSON body does not parse', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a@example.test", "password": ',
    });
    const problem = expectProblem(response, 400, 'MALFORMED_REQUEST');
    expect(problem.type).toBe('/problems/malformed-request');
  });

  it('answers 400 when a JSON body is declared but empty', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expectProblem(response, 400, 'MALFORMED_REQUEST');
  });

  it('answers 400 VALIDATION_FAILED when the JSON body is not an object', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '[1, 2, 3]',
    });
    expectProblem(response, 400, 'VALIDATION_FAILED');
  });

  it('answers 413 PAYLOAD_TOO_LARGE when the body is over 1 MB', async () => {
    const payload = JSON.stringify({
      email: 'big@example.test',
      password: 'long enough pw',
      name: 'x'.repeat(1_150_000),
    });
    expect(payload.length).toBeGreaterThan(1024 * 1024);
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    const problem = expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
    expect(problem.type).toBe('/problems/payload-too-large');
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE when the content type is not JSON', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'text/plain' },
      payload: 'email=a@example.test&password=x',
    });
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 415 for a form-encoded body too', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a%40example.test&password=long+enough+pw&name=A',
    });
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('validation', () => {
  it('rejects unknown fields with 400 VALIDATION_FAILED and names each one', async () => {
    const response = await postEvent({ ...validEvent(), status: 'published', sold: 0 });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.type).toBe('/problems/validation-failed');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { field: 'status', message: 'is not an accepted field' },
        { field: 'sold', message: 'is not an accepted field' },
      ]),
    );
  });

  it('reports every missing required field, not only the first', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { name: 'No Email' },
    });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { field: 'email', message: 'is required' },
        { field: 'password', message: 'is required' },
      ]),
    );
  });

  it('rejects a number sent as a string (bodies are not coerced)', async () => {
    const response = await postEvent({ ...validEvent(), priceCents: '1000' });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'priceCents' })]);
  });

  it('rejects wrong types: a string where an object is expected and a boolean for a name', async () => {
    const response = await postEvent({ ...validEvent(), name: true, sectionPrices: 'cheap' });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    const fields = (problem.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'sectionPrices']));
  });

  it('rejects a fractional number where an integer is expected', async () => {
    const response = await postEvent({ ...validEvent(), priceCents: 10.5 });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'priceCents' })]);
  });

  it('rejects negative numbers', async () => {
    const response = await postEvent({ ...validEvent(), priceCents: -1, capacity: -5 });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    const fields = (problem.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['priceCents', 'capacity']));
  });

  it('rejects huge numbers instead of overflowing the database', async () => {
    const response = await postEvent({
      ...validEvent(),
      capacity: 1e12,
      priceCents: Number.MAX_SAFE_INTEGER,
    });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    const fields = (problem.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['priceCents', 'capacity']));
  });

  it('rejects a nested value of the wrong type and names its path', async () => {
    const response = await postEvent({ ...validEvent(), sectionPrices: { Floor: -100 } });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'sectionPrices.Floor' })]);
  });

  it('rejects an out-of-range query parameter and names it with its part', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/events?limit=1000' });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'querystring.limit' })]);
  });

  it('rejects an unknown query parameter', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/events?sort=desc' });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      { field: 'querystring.sort', message: 'is not an accepted field' },
    ]);
  });

  it('rejects a path id that is not a UUID with 400, not a database error', async () => {
    const response = await t.inject({ method: 'GET', url: "/api/v1/events/1'%20or%201=1" });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'params.id' })]);
  });

  it('rejects a cursor the server never issued', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/events?cursor=not-a-cursor' });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      { field: 'querystring.cursor', message: 'is not a valid cursor' },
    ]);
  });
});

describe('unexpected exceptions', () => {
  let broken: FastifyInstance;
  beforeAll(async () => {
    broken = await buildApp(t.deps, { logger: false });
    broken.get('/boom', async () => {
      throw new Error('secret internals: SELECT password_hash FROM users');
    });
    broken.get('/boom-async', async () => {
      await Promise.resolve();
      const error = new Error('secret internals') as Error & { code?: string };
      error.code = 'ECONNREFUSED';
      throw error;
    });
    await broken.ready();
  });
  afterAll(async () => {
    await broken?.close();
  });

  it('answers 500 INTERNAL_ERROR without the message, stack or SQL', async () => {
    for (const url of ['/boom', '/boom-async']) {
      const response = await broken.inject({ method: 'GET', url });
      const problem = expectProblem(response, 500, 'INTERNAL_ERROR');
      expect(problem.type).toBe('/problems/internal-error');
      expect(response.body).not.toContain('secret internals');
      expect(response.body).not.toContain('password_hash');
      expect(response.body).not.toContain('SELECT');
      expect(response.body).not.toMatch(/stack|at .*\.ts:\d+|ECONNREFUSED/);
      expect(Object.keys(problem).sort()).toEqual(
        ['code', 'detail', 'requestId', 'status', 'title', 'type'].sort(),
      );
    }
  });

  it('keeps serving after an exception', async () => {
    await broken.inject({ method: 'GET', url: '/boom' });
    const response = await broken.inject({ method: 'GET', url: '/health/live' });
    expect(response.statusCode).toBe(200);
  });
});

describe('X-Request-Id', () => {
  it('is on every response, success and error, and unique per request', async () => {
    const responses = await Promise.all([
      t.inject({ method: 'GET', url: '/health/live' }),
      t.inject({ method: 'GET', url: '/api/v1/events' }),
      t.inject({ method: 'GET', url: '/api/v1/auth/me' }),
      t.inject({ method: 'GET', url: '/nowhere' }),
      t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'text/plain' },
        payload: 'x',
      }),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 401, 404, 415]);
    const ids = responses.map((r) => r.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('echoes a sane client id on success and in the problem of an error', async () => {
    const ok = await t.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'client-trace.42:abc_DEF' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-request-id']).toBe('client-trace.42:abc_DEF');

    const failed = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { 'x-request-id': 'trace-401' },
    });
    expect(failed.headers['x-request-id']).toBe('trace-401');
    expect(expectProblem(failed, 401, 'UNAUTHENTICATED').requestId).toBe('trace-401');
  });

  it('echoes an id of exactly 128 safe characters', async () => {
    const id = 'a'.repeat(128);
    const response = await t.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': id },
    });
    expect(response.headers['x-request-id']).toBe(id);
  });

  it('replaces an id that is too long, has spaces or could inject into logs', async () => {
    for (const garbage of ['a'.repeat(300), 'has spaces in it', 'x<script>', 'a\u00e9b', '']) {
      const response = await t.inject({
        method: 'GET',
        url: '/no-such-route',
        headers: { 'x-request-id': garbage },
      });
      const id = response.headers['x-request-id'];
      expect(id).not.toBe(garbage);
      expect(id).toMatch(UUID);
      expect(expectProblem(response, 404, 'ROUTE_NOT_FOUND').requestId).toBe(id);
    }
  });
});
