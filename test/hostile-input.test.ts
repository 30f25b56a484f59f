import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/platform/pagination.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';
import { expectProblem } from './support/kit.js';

// What an outside fuzzer driven by /openapi.json found answering 500 or plain JSON: each is a
// 4xx problem document with the request's id now, and a refused request changes nothing.
let t: TestApp;
let user: SignedIn;
let organizer: SignedIn;
let admin: SignedIn;

beforeAll(async () => {
  t = await createTestApp();
  [user, organizer, admin] = await Promise.all([
    t.signUp(),
    t.signUp('organizer'),
    t.signUp('admin'),
  ]);
});
afterAll(async () => {
  await t?.close();
});

const fieldsOf = (problem: { errors?: Array<{ field: string }> }) =>
  (problem.errors ?? []).map((e) => e.field);

describe('a NUL character (U+0000), which PostgreSQL cannot store', () => {
  it('in a body field is a 400 naming the field, and nothing is created', async () => {
    const email = `nul-${randomUUID()}@example.test`;
    const registered = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email, password: 'correct horse battery', name: 'a\u0000b' },
    });
    expect(fieldsOf(expectProblem(registered, 400, 'VALIDATION_FAILED'))).toEqual(['name']);
    const users = await t.deps.database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', email)
      .execute();
    expect(users).toEqual([]);

    const login = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nul\u0000@example.test', password: 'x' },
    });
    expect(fieldsOf(expectProblem(login, 400, 'VALIDATION_FAILED'))).toEqual(['email']);

    const venue = await t.inject({
      method: 'POST',
      url: '/api/v1/venues',
      headers: organizer.auth,
      payload: { name: 'Hall\u0000', address: 'x', city: 'x', timezone: 'UTC', sections: [] },
    });
    expect(fieldsOf(expectProblem(venue, 400, 'VALIDATION_FAILED'))).toContain('name');

    const booking = await t.inject({
      method: 'POST',
      url: '/api/v1/bookings',
      headers: user.auth,
      payload: { holdId: randomUUID(), payment: { token: 'tok_visa\u0000' } },
    });
    expect(fieldsOf(expectProblem(booking, 400, 'VALIDATION_FAILED'))).toEqual(['payment.token']);
  });

  it('in a query parameter is a 400 naming it', async () => {
    for (const name of ['q', 'city']) {
      const response = await t.inject({ method: 'GET', url: `/api/v1/events?${name}=%00` });
      expect(fieldsOf(expectProblem(response, 400, 'VALIDATION_FAILED'))).toEqual([
        `querystring.${name}`,
      ]);
    }
  });
});

describe('a forged cursor', () => {
  const notUuid = encodeCursor({ createdAt: '2020-01-01T00:00:00.000Z', id: 'x' });
  const farFuture = encodeCursor({ createdAt: '+275760-09-13T00:00:00.000Z', id: randomUUID() });
  const lists: Array<[string, () => SignedIn]> = [
    ['/api/v1/bookings', () => user],
    ['/api/v1/venues', () => organizer],
    ['/api/v1/me/notifications', () => user],
    ['/api/v1/admin/users', () => admin],
    ['/api/v1/admin/sagas', () => admin],
    ['/api/v1/admin/dead-letters', () => admin],
  ];

  it('whose id is not a UUID, or whose date is past year 9999, is a 400 on every list', async () => {
    for (const [url, who] of lists) {
      for (const cursor of [notUuid, farFuture]) {
        const response = await t.inject({
          method: 'GET',
          url: `${url}?cursor=${cursor}`,
          headers: who().auth,
        });
        expect(fieldsOf(expectProblem(response, 400, 'VALIDATION_FAILED')), url).toEqual([
          'querystring.cursor',
        ]);
      }
    }
    const events = await t.inject({
      method: 'GET',
      url: `/api/v1/events?cursor=${encodeCursor({ startsAt: '2030-01-01T00:00:00.000Z', id: 'x' })}`,
    });
    expectProblem(events, 400, 'VALIDATION_FAILED');
  });
});

describe("Fastify's own refusals", () => {
  it('a URL with a broken %-escape is a 400 problem document', async () => {
    expectProblem(
      await t.inject({ method: 'GET', url: '/api/v1/events/%FF' }),
      400,
      'MALFORMED_REQUEST',
    );
  });

  it('a path segment longer than the router takes is a 414 problem document', async () => {
    const response = await t.inject({
      method: 'GET',
      url: `/api/v1/events/${'a'.repeat(10_000)}`,
    } satisfies InjectOptions);
    expectProblem(response, 414, 'URI_TOO_LONG');
  });
});

describe('headers past the size limit, on a real socket', () => {
  it('answers 431 as a problem document, says Connection: close, and closes', async () => {
    const app = await createTestApp();
    try {
      await app.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.app.server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(
        `GET /api/v1/events?q=${'x'.repeat(100_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
      );
      await closed;
      const [head, body] = received.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 431 /);
      expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
      expect(head).toMatch(/\r\nContent-Type: application\/problem\+json/i);
      const problem = JSON.parse(body!) as { code: string; requestId: string };
      expect(problem.code).toBe('HEADERS_TOO_LARGE');
      expect(head).toContain(`X-Request-Id: ${problem.requestId}`);
    } finally {
      await app.close();
    }
  });
});
