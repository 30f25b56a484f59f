import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChildProcesses,
  exitWithin,
  freePort,
  isAlive,
  sleep,
  waitForOutput,
  type Running,
} from './support/child-process.js';
import { oneSectionVenue } from './support/fixtures.js';
import { LiveClient, type SeatStatus } from './support/live-client.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';

/**
 * Evently as separate processes (`node bin/evently.js ...`), the way it is deployed.
 *
 * With DATABASE_URL: two `evently api` instances on their own ports and one `evently worker`,
 * sharing a fresh PostgreSQL database, a throwaway redis-server (the children cannot be given
 * a key prefix, so a private Redis keeps them apart from other test files) and, when AMQP_URL
 * is set, a fresh RabbitMQ vhost (the children's queues have no prefix). A change made through
 * instance A must reach a WebSocket client of instance B, and the login rate limit is one
 * window for both instances.
 *
 * Without DATABASE_URL (embedded PGlite, which one process owns) the same checks run against a
 * single `evently serve`.
 */

const STARTUP_MS = 60_000;
/** How soon a change must reach a connected client after the HTTP answer that made it. */
const LIVE_WITHIN_MS = 1_000;
const AUTH_MAX = 5;
const WINDOW_MS = 60_000;
const ROWS = 2;
const SEATS_PER_ROW = 5;
const CAPACITY = ROWS * SEATS_PER_ROW;
const ADMIN_EMAIL = 'admin@multi-instance.test';
const ADMIN_PASSWORD = 'admin-password-long-enough';
const USER_PASSWORD = 'correct horse battery';
const JWT_SECRET = randomBytes(32).toString('hex');

const shared = Boolean(process.env.DATABASE_URL);
const mode = shared ? 'shared services' : 'embedded';
const run = promisify(execFile);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** HTTP/1.1 from a chosen loopback address, so a test can have an auth window of its own. */
function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; from?: string } = {},
): Promise<Answer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((done, fail) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method,
        localAddress: options.from,
        headers: {
          ...(body !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          done({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

async function expectStatus(answer: Promise<Answer>, status: number): Promise<Answer> {
  const got = await answer;
  expect(got.status, got.text).toBe(status);
  return got;
}

interface Instance {
  name: string;
  running: Running;
  base: string;
  ws: string;
}

const processes = new ChildProcesses();
const clients = LiveClient.opened;
let dataDir: string | undefined;
let testDb: TestDatabase | undefined;
let redis: ThrowawayRedis | undefined;
let vhost: string | undefined;
let env: NodeJS.ProcessEnv;
/** The instances serving the API: A and B with shared services, the one `serve` otherwise. */
let apis: Instance[] = [];
/** Every server started, the worker included. */
const servers: Running[] = [];
let adminToken: string;
let userToken: string;
let userEmail: string;

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', args, { timeout: 60_000 });
}

async function start(name: string, command: 'serve' | 'api' | 'worker'): Promise<Instance> {
  const port = await freePort();
  const running = processes.start([command], { ...env, PORT: String(port) });
  servers.push(running);
  await waitForOutput(running, /Evently is running/, STARTUP_MS);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    const ready = await call(base, 'GET', '/health/ready').catch(() => undefined);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) {
      throw new Error(`${name} not ready: ${ready?.text}\n${running.output()}`);
    }
    await sleep(100);
  }
  return { name, running, base, ws: `ws://127.0.0.1:${port}/api/v1` };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'evently-multi-'));
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    JWT_SECRET,
    BCRYPT_COST: '4',
    SEED_DEMO: 'false',
    RATE_LIMIT_AUTH_MAX: String(AUTH_MAX),
    RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
  };
  if (shared) {
    testDb = await createTestDatabase();
    redis = await startThrowawayRedis();
    env.DATABASE_URL = testDb.url;
    env.REDIS_URL = redis.url;
    if (process.env.AMQP_URL) {
      vhost = `evently-test-${randomBytes(6).toString('hex')}`;
      await rabbitmqctl('add_vhost', vhost);
      await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
      const amqp = new URL(process.env.AMQP_URL);
      amqp.pathname = `/${encodeURIComponent(vhost)}`;
      env.AMQP_URL = amqp.toString();
    }
  }

  // The admin first: this also migrates, so the instances start on an up-to-date schema.
  const admin = processes.start(['create-admin', '--email', ADMIN_EMAIL], {
    ...env,
    ADMIN_PASSWORD,
  });
  const exit = await exitWithin(admin, STARTUP_MS);
  expect(exit, admin.output()).toEqual({ code: 0, signal: null });
  expect(admin.output()).toContain(`Created admin ${ADMIN_EMAIL}`);

  if (shared) {
    // Two API instances that run no background work, and one worker that runs all of it.
    apis = await Promise.all([start('A', 'api'), start('B', 'api')]);
    await start('worker', 'worker');
  } else {
    apis = [await start('serve', 'serve')];
  }

  // Setup traffic comes from 127.0.0.1; the rate-limit test uses addresses of its own.
  const A = apis[0]!;
  adminToken = (
    await expectStatus(
      call(A.base, 'POST', '/api/v1/auth/login', {
        body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      }),
      200,
    )
  ).json<{ accessToken: string }>().accessToken;
  userEmail = `buyer-${randomUUID()}@multi-instance.test`;
  userToken = (
    await expectStatus(
      call(A.base, 'POST', '/api/v1/auth/register', {
        body: { email: userEmail, password: USER_PASSWORD, name: 'Buyer' },
      }),
      201,
    )
  ).json<{ accessToken: string }>().accessToken;
}, 4 * STARTUP_MS);

afterAll(async () => {
  await Promise.allSettled([...clients].map((c) => c.close({ terminate: true })));
  // Gracefully when possible (the worker hands its RabbitMQ channel back), then by force.
  await Promise.allSettled(
    servers.filter(isAlive).map(async (r) => {
      r.child.kill('SIGTERM');
      await exitWithin(r, 10_000);
    }),
  );
  await processes.killAll();
  await Promise.allSettled([
    testDb?.drop(),
    redis?.stop(),
    vhost ? rabbitmqctl('delete_vhost', vhost) : undefined,
  ]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

async function seatEvent(): Promise<{ id: string; seatIds: string[] }> {
  const A = apis[0]!;
  const venue = await expectStatus(
    call(A.base, 'POST', '/api/v1/venues', {
      token: adminToken,
      body: oneSectionVenue(
        { name: 'Multi Hall', address: '2 Instance Road', city: 'Clusterton', section: 'Floor' },
        ROWS,
        SEATS_PER_ROW,
      ),
    }),
    201,
  );
  const startsAt = new Date(Date.now() + 10 * 86_400_000);
  const event = await expectStatus(
    call(A.base, 'POST', '/api/v1/events', {
      token: adminToken,
      body: {
        name: 'Two Instances Live',
        description: 'Seats change on one instance and show on the other',
        venueId: venue.json<{ id: string }>().id,
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
        seating: 'reserved',
        priceCents: 4200,
        currency: 'EUR',
      },
    }),
    201,
  );
  const id = event.json<{ id: string }>().id;
  await expectStatus(
    call(A.base, 'POST', `/api/v1/events/${id}/publish`, { token: adminToken }),
    200,
  );
  const map = (await expectStatus(call(A.base, 'GET', `/api/v1/events/${id}/seats`), 200)).json<{
    sections: Array<{ rows: Array<{ seats: Array<{ id: string }> }> }>;
  }>();
  const seatIds = map.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((x) => x.id)));
  expect(seatIds).toHaveLength(CAPACITY);
  return { id, seatIds };
}

/** The seats message for `seatId` becoming `status`, then the availability that follows it. */
async function expectPush(
  client: LiveClient,
  after: number,
  seatId: string,
  status: SeatStatus,
  availability: { available: number; held: number; sold: number },
  answeredAt: number,
  label: string,
): Promise<{ index: number; latencyMs: number }> {
  const seats = await client.waitFor(
    `${label}: seats ${status} for ${seatId}`,
    (m) =>
      m.type === 'seats' &&
      Array.isArray(m.changes) &&
      (m.changes as Array<{ seatId: string; status: string }>).some(
        (c) => c.seatId === seatId && c.status === status,
      ),
    { after },
  );
  expect(seats.message, label).toEqual({ type: 'seats', changes: [{ seatId, status }] });
  const next = await client.waitFor(`${label}: availability`, () => true, {
    after: seats.index,
  });
  expect(next.message, label).toEqual({ type: 'availability', ...availability });
  const latencyMs = seats.at - answeredAt;
  expect(latencyMs, `${label}: ${status} arrived ${latencyMs} ms after the answer`).toBeLessThan(
    LIVE_WITHIN_MS,
  );
  return { index: next.index, latencyMs };
}

describe(`several instances (${mode})`, () => {
  const where = shared ? 'a WebSocket client of the other instance' : 'a WebSocket client';
  it(`a hold and a booking reach ${where} within a second`, async () => {
    const A = apis[0]!;
    // With shared services the client watches B while every change is made on A.
    const watched = apis[apis.length - 1]!;
    const event = await seatEvent();
    const seatId = event.seatIds[3]!;

    const onWatched = await LiveClient.open(`${watched.ws}/events/${event.id}/live`);
    const onA = await LiveClient.open(`${A.ws}/events/${event.id}/live`);
    const snapshot = await onWatched.waitFor('snapshot', (m) => m.type === 'snapshot');
    expect(snapshot.index).toBe(0);
    const seats = snapshot.message.seats as Array<{ seatId: string; status: string }>;
    expect(snapshot.message).toMatchObject({
      type: 'snapshot',
      eventId: event.id,
      available: CAPACITY,
      held: 0,
      sold: 0,
    });
    expect(seats.map((s) => s.seatId).sort()).toEqual([...event.seatIds].sort());
    expect(seats.every((s) => s.status === 'available')).toBe(true);
    await onA.waitFor('snapshot on A', (m) => m.type === 'snapshot');

    // Every change is made on A; its push is checked on a client of `on`, after `since`.
    const after = {
      held: { change: 'hold', figures: { available: CAPACITY - 1, held: 1, sold: 0 } },
      sold: { change: 'booking', figures: { available: CAPACITY - 1, held: 0, sold: 1 } },
    };
    const pushOf = (
      status: 'held' | 'sold',
      client: LiveClient,
      on: Instance,
      since: number,
      answeredAt: number,
    ) => {
      const { change, figures } = after[status];
      const label = `${change} on ${A.name} → client on ${on.name}`;
      return expectPush(client, since, seatId, status, figures, answeredAt, label);
    };

    const hold = await expectStatus(
      call(A.base, 'POST', `/api/v1/events/${event.id}/holds`, {
        token: userToken,
        body: { seatIds: [seatId] },
      }),
      201,
    );
    const heldAt = Date.now();
    const held = await pushOf('held', onWatched, watched, snapshot.index, heldAt);
    await pushOf('held', onA, A, 0, heldAt);

    const booking = await expectStatus(
      call(A.base, 'POST', '/api/v1/bookings', {
        token: userToken,
        body: { holdId: hold.json<{ id: string }>().id, payment: { token: 'tok_visa' } },
      }),
      201,
    );
    expect(booking.json()).toMatchObject({ status: 'confirmed' });
    const bookedAt = Date.now();
    const sold = await pushOf('sold', onWatched, watched, held.index, bookedAt);

    // Exactly one update per change reached the watching client: none lost, none doubled.
    expect(onWatched.received.map((r) => r.message.type)).toEqual([
      'snapshot',
      'seats',
      'availability',
      'seats',
      'availability',
    ]);
    // A client connecting now, on the watched instance, starts from the new state.
    const late = await LiveClient.open(`${watched.ws}/events/${event.id}/live`);
    const lateSnapshot = await late.waitFor('late snapshot', (m) => m.type === 'snapshot');
    expect(lateSnapshot.message).toMatchObject({ available: CAPACITY - 1, held: 0, sold: 1 });
    expect(
      (lateSnapshot.message.seats as Array<{ seatId: string; status: string }>).find(
        (s) => s.seatId === seatId,
      ),
    ).toEqual({ seatId, status: 'sold' });

    console.log(
      `[multi-instance/${mode}] hold on ${A.name} → WS on ${watched.name}: ${held.latencyMs} ms; ` +
        `booking → 'sold': ${sold.latencyMs} ms`,
    );
    for (const client of [onWatched, onA, late]) await client.close({ terminate: true });
  }, 60_000);

  it(`the login limit (${AUTH_MAX} per IP per window) is ${shared ? 'one window across the instances' : 'enforced'}`, async () => {
    const A = apis[0]!;
    const B = apis[apis.length - 1]!;
    // An address of this test's own (any 127/8 address reaches the loopback listener).
    const from = `127.${1 + (process.pid % 200)}.${randomBytes(1)[0]! % 250}.${2 + (Date.now() % 250)}`;
    const login = (instance: Instance, password: string) =>
      call(instance.base, 'POST', '/api/v1/auth/login', {
        from,
        body: { email: userEmail, password },
      });

    const plan = [A, A, A, B, B];
    for (const [i, instance] of plan.entries()) {
      const answer = await login(instance, 'wrong password, attempt');
      const label = `failed login ${i + 1} on ${instance.name}`;
      expect(answer.status, `${label}: ${answer.text}`).toBe(401);
      expect(answer.json(), label).toMatchObject({ code: 'INVALID_CREDENTIALS' });
      // The remaining allowance counts down across the instances: 4, 3, 2, 1, 0.
      expect(answer.headers['ratelimit-limit'], label).toBe(String(AUTH_MAX));
      expect(answer.headers['ratelimit-remaining'], label).toBe(String(AUTH_MAX - 1 - i));
    }

    // The next login is refused on both instances, right password or not.
    for (const instance of [B, A]) {
      const answer = await login(instance, USER_PASSWORD);
      const label = `login ${AUTH_MAX + 1} on ${instance.name}`;
      expect(answer.status, `${label}: ${answer.text}`).toBe(429);
      expect(answer.headers['content-type'], label).toContain('application/problem+json');
      expect(answer.json(), label).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      const retryAfter = Number(answer.headers['retry-after']);
      expect(Number.isInteger(retryAfter), label).toBe(true);
      expect(retryAfter, label).toBeGreaterThanOrEqual(1);
      expect(retryAfter, label).toBeLessThanOrEqual(WINDOW_MS / 1000);
      expect(answer.headers['ratelimit-remaining'], label).toBe('0');
    }

    // Only that address is limited: the same login from another one goes through.
    await expectStatus(
      call(B.base, 'POST', '/api/v1/auth/login', {
        body: { email: userEmail, password: USER_PASSWORD },
      }),
      200,
    );
  }, 60_000);
});
