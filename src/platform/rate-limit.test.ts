import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '../../test/support/fixtures.js';
import {
  createTestApp,
  usingRealDatabase,
  usingRedis,
  type SignedIn,
  type TestApp,
} from '../../test/support/test-app.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../../test/support/throwaway-redis.js';
import { MemoryRateLimitStore } from '../infra/memory/memory-rate-limit-store.js';
import type { UserRole } from './database/schema.js';
import { RedisRateLimitStore } from '../infra/redis/redis-rate-limit-store.js';
import { SYSTEM_AUDIT_CONTEXT } from './audit-context.js';
import { UserRepository } from '../modules/users/user.repository.js';
import type { RateLimitStore } from './ports/rate-limit-store.js';
import { clientKeyOf, registerRateLimiting } from './rate-limit.js';
import { sleep } from '../../test/support/kit.js';

let lastAddress = 0;
/** A client address of the test's own, so tests share an app without sharing windows. */
const newAddress = () => {
  lastAddress += 1;
  return `10.0.${Math.floor(lastAddress / 250)}.${(lastAddress % 250) + 1}`;
};

/** The test app as seen from one client address (fixtures included). */
const from = (t: TestApp, remoteAddress: string): TestApp => ({
  ...t,
  inject: (options: InjectOptions) => t.app.inject({ remoteAddress, ...options }),
});

/** A signed-in user made through the service, so no HTTP window is spent on setting up. */
async function newUser(t: TestApp, role: UserRole = 'user'): Promise<SignedIn> {
  const auth = t.deps.services.auth;
  const email = `limited-${randomUUID()}@example.test`;
  const password = 'correct horse battery';
  const noClient = { ip: null, userAgent: null };
  const { user } = await auth.signIn.register(
    { email, password, name: 'Limited' },
    noClient,
    SYSTEM_AUDIT_CONTEXT,
  );
  if (role !== 'user') {
    await new UserRepository(t.deps.database.db).update(user.id, { role, bumpTokenEpoch: false });
  }
  const { accessToken, refreshToken } = await auth.signIn.login(
    { email, password },
    noClient,
    SYSTEM_AUDIT_CONTEXT,
  );
  const bearer = { authorization: `Bearer ${accessToken}` };
  return { id: user.id, email, password, role, accessToken, refreshToken, auth: bearer };
}

function expectRateLimited(response: LightMyRequestResponse, limit: number, windowMs: number) {
  expect(response.statusCode).toBe(429);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.json()).toMatchObject({
    type: '/problems/rate-limited',
    status: 429,
    code: 'RATE_LIMITED',
    requestId: response.headers['x-request-id'],
  });
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(Math.ceil(windowMs / 1000));
  expect(response.headers['ratelimit-limit']).toBe(String(limit));
  expect(response.headers['ratelimit-remaining']).toBe('0');
  expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
}

describe('RateLimitStore contract', () => {
  let throwaway: ThrowawayRedis | undefined;
  let redis: Redis;

  beforeAll(async () => {
    // The shared Redis when the run has one, else a private one: both adapters always run.
    if (!process.env.REDIS_URL) throwaway = await startThrowawayRedis();
    redis = new Redis(process.env.REDIS_URL ?? throwaway!.url, {
      keyPrefix: `test:ratelimit-contract:${randomUUID()}:`,
    });
  });
  afterAll(async () => {
    redis?.disconnect();
    await throwaway?.stop();
  });

  const adapters: Array<[string, () => RateLimitStore]> = [
    ['memory', () => new MemoryRateLimitStore()],
    ['redis', () => new RedisRateLimitStore(redis)],
  ];

  describe.each(adapters)('%s', (_name, makeStore) => {
    const key = (scope: string) => `ratelimit:{${scope}:${randomUUID()}}:all`;

    it('allows up to the limit, counting down, then refuses with a retry-after within the window', async () => {
      const store = makeStore();
      const k = key('ip');
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await store.hit(k, 3, 10_000));
      expect(answers.map((a) => [a.allowed, a.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      expect(answers[0]!.retryAfterMs).toBe(0);
      expect(answers[0]!.resetMs).toBeGreaterThan(9_000);
      expect(answers[0]!.resetMs).toBeLessThanOrEqual(10_000);
      expect(answers[3]!.retryAfterMs).toBeGreaterThan(9_000);
      expect(answers[3]!.retryAfterMs).toBeLessThanOrEqual(10_000);
      expect(answers[3]!.resetMs).toBe(answers[3]!.retryAfterMs);
    });

    it('allows again once the window has passed, refused requests not having counted', async () => {
      const store = makeStore();
      const k = key('ip');
      for (let i = 0; i < 2; i++) expect((await store.hit(k, 2, 300)).allowed).toBe(true);
      for (let i = 0; i < 5; i++) expect((await store.hit(k, 2, 300)).allowed).toBe(false);
      await sleep(350);
      expect(await store.hit(k, 2, 300)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await store.hit(k, 2, 300)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('slides: requests made late in the previous window still count after its boundary', async () => {
      const store = makeStore();
      const k = key('user');
      const windowMs = 800;
      await store.hit(k, 3, windowMs);
      await store.hit(k, 3, windowMs);
      const firstTwoAt = Date.now();
      await sleep(400);
      expect((await store.hit(k, 3, windowMs)).allowed).toBe(true);
      expect((await store.hit(k, 3, windowMs)).allowed).toBe(false);
      // The first two have aged out; the one from the middle of the old window has not.
      await sleep(firstTwoAt + windowMs + 50 - Date.now());
      expect(await store.hit(k, 3, windowMs)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await store.hit(k, 3, windowMs)).toMatchObject({ allowed: true, remaining: 0 });
      const refused = await store.hit(k, 3, windowMs);
      expect(refused.allowed).toBe(false);
      // Waiting for the middle request to leave, not for a whole new window.
      expect(refused.retryAfterMs).toBeLessThan(windowMs / 2);
    });

    it('keeps windows of different keys apart', async () => {
      const store = makeStore();
      const first = key('ip');
      expect((await store.hit(first, 1, 10_000)).allowed).toBe(true);
      expect((await store.hit(first, 1, 10_000)).allowed).toBe(false);
      expect((await store.hit(key('ip'), 1, 10_000)).allowed).toBe(true);
    });

    it('admits exactly the limit when many requests arrive at once', async () => {
      const store = makeStore();
      const k = key('user');
      const answers = await Promise.all(Array.from({ length: 50 }, () => store.hit(k, 10, 10_000)));
      expect(answers.filter((a) => a.allowed)).toHaveLength(10);
      expect(answers.filter((a) => !a.allowed).every((a) => a.retryAfterMs > 0)).toBe(true);
    });
  });

  it('redis: an idle window expires with its last request, under the namespace prefix', async () => {
    const store = new RedisRateLimitStore(redis);
    const k = key();
    await store.hit(k, 5, 2_000);
    const ttl = await redis.pttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_000);
    // ioredis puts the prefix in front, so the hash tag stays the key's first braces.
    const unprefixed = new Redis(process.env.REDIS_URL ?? throwaway!.url);
    try {
      expect(await unprefixed.exists(`${redis.options.keyPrefix}${k}`)).toBe(1);
    } finally {
      unprefixed.disconnect();
    }

    function key() {
      return `ratelimit:{ip:${randomUUID()}}:all`;
    }
  });
});

describe('clientKeyOf', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:aa:bb:1:2:3:4', '2001:db8:aa:bb::/64'],
    ['2001:0db8:00aa:bb::9', '2001:db8:aa:bb::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
  ])('counts %s as %s', (ip, key) => {
    expect(clientKeyOf(ip)).toBe(key);
  });
});

// Small limits so each rule is reached in a few requests; every test uses addresses of its own.
const LIMITS = {
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_WINDOW_MS: '60000',
  RATE_LIMIT_IP_MAX: '10',
  RATE_LIMIT_USER_MAX: '6',
  RATE_LIMIT_AUTH_MAX: '3',
  RATE_LIMIT_HOLD_MAX: '2',
};

describe('rate limiting with RATE_LIMIT_ENABLED=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(LIMITS);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the request over the per-IP limit with 429, Retry-After, RateLimit-* and a problem document', async () => {
    const client = from(t, newAddress());
    for (let i = 0; i < 10; i++) {
      const response = await client.inject({ method: 'GET', url: '/api/v1/events' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('10');
      expect(response.headers['ratelimit-remaining']).toBe(String(9 - i));
      expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
      expect(Number(response.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);
      expect(response.headers['retry-after']).toBeUndefined();
    }
    expectRateLimited(await client.inject({ method: 'GET', url: '/api/v1/events' }), 10, 60_000);
    // Another client is not affected.
    const other = await from(t, newAddress()).inject({ method: 'GET', url: '/api/v1/events' });
    expect(other.statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For when TRUST_PROXY is off, so rotating it does not evade the limit', async () => {
    const client = from(t, newAddress());
    const get = (i: number) =>
      client.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
    for (let i = 0; i < 10; i++) expect((await get(i)).statusCode).toBe(401);
    expect((await get(10)).statusCode).toBe(429);
  });

  it('limits unknown routes too', async () => {
    const client = from(t, newAddress());
    for (let i = 0; i < 10; i++) {
      expect((await client.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(404);
    }
    expectRateLimited(await client.inject({ method: 'GET', url: '/no/such/route' }), 10, 60_000);
  });

  it('limits login and registration attempts per IP more tightly than other requests', async () => {
    const user = await newUser(t);
    const client = from(t, newAddress());
    const login = (password: string) =>
      client.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password },
      });
    expect((await login('wrong password 1')).statusCode).toBe(401);
    const second = await login('wrong password 2');
    expect(second.statusCode).toBe(401);
    expect(second.headers['ratelimit-limit']).toBe('3');
    expect(second.headers['ratelimit-remaining']).toBe('1');
    expect((await login(user.password)).statusCode).toBe(200);

    expectRateLimited(await login(user.password), 3, 60_000);
    // Registration shares the allowance.
    const register = await client.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: `r-${randomUUID()}@example.test`, password: 'long enough pw', name: 'R' },
    });
    expectRateLimited(register, 3, 60_000);

    // Other routes from the same address, and logins from elsewhere, are still served.
    const browse = await client.inject({ method: 'GET', url: '/api/v1/events' });
    expect(browse.statusCode).toBe(200);
    expect(browse.headers['ratelimit-limit']).toBe('10');
    expect(browse.headers['ratelimit-remaining']).toBe('6');
    const elsewhere = await from(t, newAddress()).inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('limits hold attempts per user, from whichever address they come', async () => {
    const organizer = await newUser(t, 'organizer');
    const event = await createEvent(from(t, newAddress()), organizer, { capacity: 50 });
    const user = await newUser(t);
    const hold = (who: SignedIn) =>
      from(t, newAddress()).inject({
        method: 'POST',
        url: `/api/v1/events/${event.id}/holds`,
        headers: who.auth,
        payload: { quantity: 1 },
      });

    const first = await hold(user);
    expect(first.statusCode).toBe(201);
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect((await hold(user)).statusCode).toBe(201);
    expectRateLimited(await hold(user), 2, 60_000);

    // The user's other requests and other users' holds go on.
    const me = await from(t, newAddress()).inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: user.auth,
    });
    expect(me.statusCode).toBe(200);
    expect((await hold(await newUser(t))).statusCode).toBe(201);
  });

  it('limits each signed-in user across addresses', async () => {
    const user = await newUser(t);
    const me = () =>
      from(t, newAddress()).inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.auth });
    for (let i = 0; i < 6; i++) {
      const response = await me();
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('6');
      expect(response.headers['ratelimit-remaining']).toBe(String(5 - i));
    }
    expectRateLimited(await me(), 6, 60_000);
  });

  it('never limits health, metrics and documentation', async () => {
    const client = from(t, newAddress());
    for (const url of [
      '/health/live',
      '/health/ready',
      '/health/status',
      '/metrics',
      '/openapi.json',
      '/docs',
    ]) {
      for (let i = 0; i < 12; i++) {
        const response = await client.inject({ method: 'GET', url });
        expect(response.statusCode, url).toBeLessThan(400);
        expect(response.headers['ratelimit-limit'], url).toBeUndefined();
      }
    }
    // None of them used the address's allowance.
    const api = await client.inject({ method: 'GET', url: '/api/v1/events' });
    expect(api.headers['ratelimit-remaining']).toBe('9');
  });

  it('documents the 429 on limited routes and not on operations routes', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    expect(doc.paths['/api/v1/events']!.get!.responses['429']).toBeDefined();
    expect(doc.paths['/api/v1/auth/login']!.post!.responses['429']).toBeDefined();
    const live = doc.paths['/health/live']?.get;
    if (live) expect(live.responses['429']).toBeUndefined();
  });

  it('applies a limit used up on one instance on another', async () => {
    const address = newAddress();
    for (let i = 0; i < 10; i++) {
      await from(t, address).inject({ method: 'GET', url: '/api/v1/auth/me' });
    }
    expect(
      (await from(t, address).inject({ method: 'GET', url: '/api/v1/auth/me' })).statusCode,
    ).toBe(429);

    if (usingRealDatabase) {
      // Another instance behind the balancer: with Redis it reads the same window.
      const other = await t.anotherInstance();
      const there = await other.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        remoteAddress: address,
      });
      expect(there.statusCode).toBe(usingRedis ? 429 : 401);
      expect(there.headers['ratelimit-remaining']).toBe(usingRedis ? '0' : '9');
    } else {
      // Embedded mode is one process: its windows live in it, and a second process has its own.
      const second = await createTestApp(LIMITS);
      try {
        const there = await second.app.inject({
          method: 'GET',
          url: '/api/v1/auth/me',
          remoteAddress: address,
        });
        expect(there.statusCode).toBe(401);
        expect(there.headers['ratelimit-remaining']).toBe('9');
      } finally {
        await second.close();
      }
    }
  });
});

describe('a sliding window of 1.5 s behind a trusted proxy', () => {
  const windowMs = 1500;
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      ...LIMITS,
      RATE_LIMIT_WINDOW_MS: String(windowMs),
      RATE_LIMIT_IP_MAX: '3',
      TRUST_PROXY: 'true',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  // An unauthenticated /auth/me is refused before any database work: cheap and quick.
  const knock = (client: TestApp) => client.inject({ method: 'GET', url: '/api/v1/auth/me' });

  it('serves a client again once its window has passed', async () => {
    const client = from(t, newAddress());
    for (let i = 0; i < 3; i++) expect((await knock(client)).statusCode).toBe(401);
    const refused = await knock(client);
    expectRateLimited(refused, 3, windowMs);
    await sleep(Number(refused.headers['retry-after']) * 1000 + 100);
    expect((await knock(client)).statusCode).toBe(401);
  });

  it('still counts requests from late in the previous window after its boundary', async () => {
    const client = from(t, newAddress());
    await knock(client);
    await knock(client);
    const firstTwoAt = Date.now();
    await sleep(windowMs / 2);
    expect((await knock(client)).statusCode).toBe(401);
    expect((await knock(client)).statusCode).toBe(429);
    await sleep(firstTwoAt + windowMs + 100 - Date.now());
    // A fixed window would have started afresh with 3; the sliding one still holds 1.
    expect((await knock(client)).statusCode).toBe(401);
    expect((await knock(client)).statusCode).toBe(401);
    expect((await knock(client)).statusCode).toBe(429);
  });

  it('gives each forwarded client its own window when TRUST_PROXY is on', async () => {
    const proxy = from(t, newAddress());
    const as = (client: string) =>
      proxy.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { 'x-forwarded-for': client },
      });
    for (let i = 0; i < 3; i++) expect((await as('198.51.100.1')).statusCode).toBe(401);
    expect((await as('198.51.100.1')).statusCode).toBe(429);
    expect((await as('198.51.100.2')).statusCode).toBe(401);
  });
});

describe('rate limiting with RATE_LIMIT_ENABLED=false', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      ...LIMITS,
      RATE_LIMIT_ENABLED: 'false',
      RATE_LIMIT_IP_MAX: '1',
      RATE_LIMIT_AUTH_MAX: '1',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('never answers 429 and sends no RateLimit headers', async () => {
    const client = from(t, newAddress());
    const responses = [];
    for (let i = 0; i < 5; i++) {
      responses.push(await client.inject({ method: 'GET', url: '/api/v1/events' }));
      responses.push(
        await client.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'nobody@example.test', password: 'not the password' },
        }),
      );
    }
    for (const response of responses) {
      expect(response.statusCode).not.toBe(429);
      expect(response.headers['ratelimit-limit']).toBeUndefined();
      expect(response.headers['ratelimit-remaining']).toBeUndefined();
    }
    // And the OpenAPI document does not promise a 429 the server never sends.
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    expect(doc.paths['/api/v1/events']!.get!.responses['429']).toBeUndefined();
  });
});

describe('when the rate-limit store goes away', () => {
  let redis: ThrowawayRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startThrowawayRedis();
    t = await createTestApp({ ...LIMITS, REDIS_URL: redis.url, RATE_LIMIT_IP_MAX: '3' });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('lets requests through (fails open) and warns in the log', async () => {
    const client = from(t, newAddress());
    const before = await client.inject({ method: 'GET', url: '/api/v1/events' });
    expect(before.statusCode).toBe(200);
    expect(before.headers['ratelimit-remaining']).toBe('2');

    // A Redis that holds on to its answer (here: paused) does not hold the request up either.
    const admin = new Redis(redis.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '2000', 'WRITE');
      const started = Date.now();
      const paused = await client.inject({ method: 'GET', url: '/api/v1/events' });
      expect(paused.statusCode).toBe(200);
      expect(paused.headers['ratelimit-limit']).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(2000);
      await admin.call('CLIENT', 'UNPAUSE');
    } finally {
      admin.disconnect();
    }

    await redis.stop();

    for (let i = 0; i < 5; i++) {
      const response = await client.inject({ method: 'GET', url: '/api/v1/events' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBeUndefined();
    }

    // The warning, seen through an app whose log we can read.
    const lines: string[] = [];
    const logged = Fastify({ logger: { level: 'warn', stream: { write: (l) => lines.push(l) } } });
    const down = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    try {
      registerRateLimiting(logged, new RedisRateLimitStore(down), {
        windowMs: 60_000,
        ipMax: 1,
        userMax: 1,
      });
      logged.get('/ping', async () => 'pong');
      for (let i = 0; i < 3; i++) {
        expect((await logged.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(200);
      }
      const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
      // Once, not once per request.
      expect(warnings).toEqual([
        expect.objectContaining({
          level: 40,
          msg: 'rate-limit store unavailable; requests are not limited',
        }),
      ]);
    } finally {
      down.disconnect();
      await logged.close();
    }
  });
});
