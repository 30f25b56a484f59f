import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';

/**
 * `evently serve` as a child process with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP
 * receiver this test runs on loopback (the exporter sends JSON). One hold and one booking over
 * real HTTP must come back as spans: the HTTP server spans, the hold, the saga, the consumer
 * work and, with DATABASE_URL, REDIS_URL and AMQP_URL set, the pg, ioredis and amqplib spans.
 * The consumer work joins the trace of the request that wrote its message, through the outbox.
 * Embedded PGlite has no driver instrumentation, so the embedded run checks the rest.
 */

const STARTUP_MS = 60_000;
const ADMIN_EMAIL = 'admin@tracing.test';
const ADMIN_PASSWORD = 'admin-password-long-enough';
const USER_PASSWORD = 'tracing horse battery';
const JWT_SECRET = randomBytes(32).toString('hex');
const SERVICE_NAME = 'evently-tracing-test';

const shared = Boolean(process.env.DATABASE_URL);
const withRedis = shared && Boolean(process.env.REDIS_URL);
const withRabbit = shared && Boolean(process.env.AMQP_URL);
const run = promisify(execFile);

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  scope: string;
  service: string;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string }>;
}

const SERVER = 2;
const CONSUMER = 5;

type OtlpAttribute = { key: string; value: Record<string, unknown> };

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = Object.values(value)[0];
  return out;
}

/** A minimal OTLP/HTTP trace receiver: every span of every JSON export, flattened. */
class OtlpReceiver {
  readonly spans: Span[] = [];
  readonly contentTypes = new Set<string>();
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        this.contentTypes.add(req.headers['content-type'] ?? '');
        this.collect(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }

  /** Waits until a span matching `match` has arrived. */
  async waitFor(label: string, match: (span: Span) => boolean, timeoutMs = 15_000): Promise<Span> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        const names = [...new Set(this.spans.map((s) => `${s.scope}: ${s.name}`))];
        throw new Error(`no span for ${label}; received:\n${names.join('\n')}`);
      }
      await sleep(50);
    }
  }

  private collect(body: {
    resourceSpans?: Array<{
      resource?: { attributes?: OtlpAttribute[] };
      scopeSpans?: Array<{
        scope?: { name?: string };
        spans?: Array<{
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind: number;
          attributes?: OtlpAttribute[];
          events?: Array<{ name: string; attributes?: OtlpAttribute[] }>;
          links?: Array<{ traceId: string; spanId: string }>;
        }>;
      }>;
    }>;
  }): void {
    for (const resource of body.resourceSpans ?? []) {
      const service = String(attributesOf(resource.resource?.attributes)['service.name']);
      for (const scoped of resource.scopeSpans ?? []) {
        for (const span of scoped.spans ?? []) {
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            scope: scoped.scope?.name ?? '',
            service,
            attributes: attributesOf(span.attributes),
            events: (span.events ?? []).map((e) => ({
              name: e.name,
              attributes: attributesOf(e.attributes),
            })),
            links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          });
        }
      }
    }
  }
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function expectStatus(answer: ReturnType<typeof call>, status: number) {
  const got = await answer;
  expect(got.status, got.text).toBe(status);
  return got.json;
}

const receiver = new OtlpReceiver();
const processes = new ChildProcesses();
let server: Running | undefined;
let dataDir: string | undefined;
let testDb: TestDatabase | undefined;
let redis: ThrowawayRedis | undefined;
let vhost: string | undefined;
let amqpUrl: URL | undefined;
let base: string;
let userToken: string;
let holdId: string;
let bookingId: string;

beforeAll(async () => {
  const endpoint = await receiver.start();
  dataDir = mkdtempSync(join(tmpdir(), 'evently-tracing-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    JWT_SECRET,
    BCRYPT_COST: '4',
    SEED_DEMO: 'false',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: SERVICE_NAME,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  if (shared) {
    testDb = await createTestDatabase();
    env.DATABASE_URL = testDb.url;
    if (withRedis) {
      // The child cannot be given a key prefix: a private Redis keeps it apart.
      redis = await startThrowawayRedis();
      env.REDIS_URL = redis.url;
    }
    if (withRabbit) {
      vhost = `evently-test-${randomBytes(6).toString('hex')}`;
      await run('rabbitmqctl', ['add_vhost', vhost], { timeout: 60_000 });
      await run('rabbitmqctl', ['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*'], {
        timeout: 60_000,
      });
      amqpUrl = new URL(process.env.AMQP_URL!);
      amqpUrl.pathname = `/${encodeURIComponent(vhost)}`;
      env.AMQP_URL = amqpUrl.toString();
    }
  }
  server = processes.start(['serve'], env);
  await waitForOutput(server, /Evently is running/, STARTUP_MS);
  base = `http://127.0.0.1:${port}`;

  const adminToken = (
    await expectStatus(
      call(base, 'POST', '/api/v1/auth/login', {
        body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      }),
      200,
    )
  ).accessToken as string;
  const startsAt = new Date(Date.now() + 10 * 86_400_000);
  const event = await expectStatus(
    call(base, 'POST', '/api/v1/events', {
      token: adminToken,
      body: {
        name: 'Traced Night',
        description: 'One hold and one booking, followed span by span',
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
        seating: 'general',
        capacity: 50,
        priceCents: 2500,
        currency: 'EUR',
      },
    }),
    201,
  );
  await expectStatus(
    call(base, 'POST', `/api/v1/events/${event.id as string}/publish`, { token: adminToken }),
    200,
  );
  userToken = (
    await expectStatus(
      call(base, 'POST', '/api/v1/auth/register', {
        body: {
          email: `buyer-${randomUUID()}@tracing.test`,
          password: USER_PASSWORD,
          name: 'Tracer',
        },
      }),
      201,
    )
  ).accessToken as string;
  holdId = (
    await expectStatus(
      call(base, 'POST', `/api/v1/events/${event.id as string}/holds`, {
        token: userToken,
        body: { quantity: 2 },
      }),
      201,
    )
  ).id as string;
  const booking = await expectStatus(
    call(base, 'POST', '/api/v1/bookings', {
      token: userToken,
      body: { holdId, payment: { token: 'tok_visa' } },
    }),
    201,
  );
  expect(booking.status).toBe('confirmed');
  bookingId = booking.id as string;
}, 4 * STARTUP_MS);

afterAll(async () => {
  if (server && isAlive(server)) {
    server.child.kill('SIGTERM');
    await exitWithin(server, 10_000);
  }
  await processes.killAll();
  await Promise.allSettled([
    receiver.stop(),
    testDb?.drop(),
    redis?.stop(),
    vhost ? run('rabbitmqctl', ['delete_vhost', vhost], { timeout: 60_000 }) : undefined,
  ]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

describe(`tracing over OTLP (${shared ? 'shared services' : 'embedded'})`, () => {
  const isHttpServer = (method: string, route: string) => (s: Span) =>
    s.kind === SERVER &&
    s.scope === '@opentelemetry/instrumentation-http' &&
    s.name === `${method} ${route}`;
  // The spans several tests start from, each waited for the same way.
  const bookingHttpSpan = () =>
    receiver.waitFor('POST /api/v1/bookings', isHttpServer('POST', '/api/v1/bookings'));
  const holdHttpSpan = () =>
    receiver.waitFor(
      'POST /api/v1/events/:id/holds',
      isHttpServer('POST', '/api/v1/events/:id/holds'),
    );
  const bookingSagaSpan = () =>
    receiver.waitFor(
      'saga.booking',
      (s) => s.name === 'saga.booking' && s.attributes['evently.booking.id'] === bookingId,
    );
  const bookingConsumerSpan = () =>
    receiver.waitFor(
      'consumer span for the booking',
      (s) =>
        s.kind === CONSUMER &&
        s.scope === 'evently' &&
        s.attributes['evently.booking.id'] === bookingId,
    );

  it('exports JSON to the configured endpoint under the configured service name', async () => {
    await receiver.waitFor('any span', () => true);
    expect([...receiver.contentTypes]).toEqual(['application/json']);
    expect(new Set(receiver.spans.map((s) => s.service))).toEqual(new Set([SERVICE_NAME]));
  });

  it('records the booking request as an HTTP server span with the saga inside it', async () => {
    const http = await bookingHttpSpan();
    const saga = await bookingSagaSpan();
    expect(saga.traceId).toBe(http.traceId);
    expect(saga.attributes['evently.saga.id']).toEqual(expect.any(String));
    expect(saga.attributes['evently.saga.step']).toBe('charge');
    // Where the saga started and where it stopped.
    expect(saga.events.map((e) => e.attributes.step)).toEqual(['charge', 'done']);
    expect(saga.events.at(-1)?.attributes.status).toBe('completed');
  });

  it('records the hold inside the hold request', async () => {
    const http = await holdHttpSpan();
    const hold = await receiver.waitFor('hold.create', (s) => s.name === 'hold.create');
    expect(hold.traceId).toBe(http.traceId);
  });

  it('records a consumer span per message handled, carrying the booking it concerns', async () => {
    const consumed = await bookingConsumerSpan();
    expect(consumed.name).toMatch(/^consume /);
    expect(consumed.attributes['messaging.consumer.group.name']).toEqual(expect.any(String));
    expect(consumed.attributes['messaging.message.id']).toEqual(expect.any(String));
    expect(consumed.attributes['evently.message.type']).toEqual(expect.any(String));
    const heldSeen = await receiver.waitFor(
      'consumer span for the hold',
      (s) =>
        s.kind === CONSUMER && s.scope === 'evently' && s.attributes['evently.hold.id'] === holdId,
    );
    expect(heldSeen.attributes['evently.message.type']).toBe('seats.held');
  });

  it('carries the booking trace through the outbox: its saga steps and consumers are in it', async () => {
    const http = await bookingHttpSpan();
    const saga = await bookingSagaSpan();
    const step = (name: string) =>
      receiver.waitFor(
        `saga.step ${name}`,
        (s) => s.name === `saga.step ${name}` && s.attributes['evently.booking.id'] === bookingId,
      );
    const charge = await step('charge');
    const confirm = await step('confirm');
    for (const span of [charge, confirm]) {
      expect(span.traceId).toBe(http.traceId);
      expect(span.parentSpanId).toBe(saga.spanId);
      expect(span.attributes['evently.saga.id']).toBe(saga.attributes['evently.saga.id']);
    }
    // The confirm step wrote booking.confirmed to the outbox: every consumer of it works in
    // the booking's trace, under that step.
    for (const consumer of ['notifications', 'live-updates', 'analytics']) {
      const consumed = await receiver.waitFor(
        `${consumer} consuming booking.confirmed`,
        (s) =>
          s.kind === CONSUMER &&
          s.scope === 'evently' &&
          s.name === `consume ${consumer}` &&
          s.attributes['evently.message.type'] === 'booking.confirmed' &&
          s.attributes['evently.booking.id'] === bookingId,
      );
      expect(consumed.traceId, consumer).toBe(http.traceId);
      expect(consumed.parentSpanId, consumer).toBe(confirm.spanId);
    }
  });

  it('carries the hold trace through the outbox to the seats.held consumer work', async () => {
    const http = await holdHttpSpan();
    const hold = await receiver.waitFor(
      'hold.create',
      (s) => s.name === 'hold.create' && s.traceId === http.traceId,
    );
    const consumed = await receiver.waitFor(
      'live-updates consuming seats.held',
      (s) =>
        s.kind === CONSUMER &&
        s.scope === 'evently' &&
        s.attributes['evently.message.type'] === 'seats.held' &&
        s.attributes['evently.hold.id'] === holdId,
    );
    expect(consumed.traceId).toBe(http.traceId);
    expect(consumed.parentSpanId).toBe(hold.spanId);
  });

  it('records the pg, ioredis and amqplib work of the services in use', async () => {
    const booking = await bookingHttpSpan();
    const hold = await holdHttpSpan();
    const from = (library: string) => (s: Span) =>
      s.scope === `@opentelemetry/instrumentation-${library}`;
    if (shared) {
      await receiver.waitFor(
        'a pg query in the booking trace',
        (s) => from('pg')(s) && s.traceId === booking.traceId && s.name.startsWith('pg.query'),
      );
    }
    if (withRedis) {
      await receiver.waitFor(
        'an ioredis command in the hold trace',
        (s) => from('ioredis')(s) && s.traceId === hold.traceId,
      );
    }
    if (withRabbit) {
      const publish = await receiver.waitFor(
        'an amqplib publish',
        (s) => from('amqplib')(s) && s.name.startsWith('publish'),
      );
      // A relay batch starts a trace of its own instead of joining whatever ran before it.
      expect(publish.parentSpanId).toBeUndefined();
      // The consumer work joins the writer's trace and links the delivery span amqplib opened
      // for the message (itself in the relay batch's trace, under its publish span).
      const consumed = await bookingConsumerSpan();
      expect(consumed.traceId).toBe(booking.traceId);
      expect(consumed.links).toHaveLength(1);
      const delivery = await receiver.waitFor(
        'the delivery span',
        (s) => s.spanId === consumed.links[0]!.spanId,
      );
      expect(delivery.scope).toBe('@opentelemetry/instrumentation-amqplib');
      expect(delivery.kind).toBe(CONSUMER);
      expect(delivery.traceId).not.toBe(booking.traceId);
    }
    // Embedded PGlite, the in-process cache and the in-process bus have no driver spans.
    const expected = [shared && 'pg', withRedis && 'ioredis', withRabbit && 'amqplib'];
    for (const library of ['pg', 'ioredis', 'amqplib']) {
      expect(receiver.spans.some(from(library)), library).toBe(expected.includes(library));
    }
  });

  it('never puts the bearer token or a password into a span', async () => {
    await receiver.waitFor(
      'the consumer work',
      (s) => s.kind === CONSUMER && s.scope === 'evently',
    );
    const secrets = [userToken, ADMIN_PASSWORD, USER_PASSWORD, JWT_SECRET];
    if (amqpUrl) secrets.push(`${amqpUrl.username}:${amqpUrl.password}@`);
    const text = JSON.stringify(receiver.spans.map((s) => [s.name, s.attributes, s.events]));
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
