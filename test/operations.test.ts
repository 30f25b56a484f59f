import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { createEvent } from './support/fixtures.js';
import {
  createTestApp,
  createTestAppWithOrganizer,
  usingRedis,
  type SignedIn,
  type TestApp,
} from './support/test-app.js';

let t: TestApp;
let organizer: SignedIn;
beforeAll(async () => {
  ({ t, organizer } = await createTestAppWithOrganizer());
});
afterAll(() => t?.close());

interface CheckReport {
  status: string;
  required: boolean;
  latencyMs: number;
  error?: string;
}

describe('GET /health/live', () => {
  it('answers 200 while the process is up', async () => {
    const response = await t.inject({ method: 'GET', url: '/health/live' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });
});

describe('GET /health/ready', () => {
  it('answers 200 with every configured dependency healthy', async () => {
    const response = await t.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ status: string; checks: Record<string, CheckReport> }>();
    expect(body.status).toBe('ready');
    const expected = usingRedis ? ['database', 'redis'] : ['database'];
    if (process.env.AMQP_URL) expected.push('rabbitmq');
    // The payment provider is reported but optional: its circuit being open degrades, not stops.
    expect(Object.keys(body.checks).sort()).toEqual([...expected, 'payments'].sort());
    expect(body.checks.payments).toMatchObject({ required: false, status: 'healthy' });
    for (const name of expected) {
      expect(body.checks[name]).toMatchObject({ required: true });
      expect(['healthy', 'degraded']).toContain(body.checks[name]!.status);
    }
  });
});

describe('GET /health/status', () => {
  it('reports status, version, environment and each check with its latency', async () => {
    const response = await t.inject({ method: 'GET', url: '/health/status' });
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      status: string;
      version: string;
      environment: string;
      mode: string;
      uptimeSeconds: number;
      timestamp: string;
      checks: Record<string, CheckReport>;
    }>();
    expect(['healthy', 'degraded']).toContain(body.status);
    expect(body.version).toBe(VERSION);
    expect(body.environment).toBe('test');
    expect(body.mode).toBe(t.deps.database.mode);
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
    expect(body.checks.database).toBeDefined();
    if (usingRedis) expect(body.checks.redis).toBeDefined();
    for (const check of Object.values(body.checks)) {
      expect(typeof check.latencyMs).toBe('number');
      expect(check.latencyMs).toBeGreaterThanOrEqual(0);
      expect(check.error).toBeUndefined();
    }
  });
});

describe('GET /metrics', () => {
  it('counts requests and their duration by route template, never by raw id', async () => {
    const event = await createEvent(t, organizer);
    const missing = randomUUID();
    for (const id of [event.id, event.id, missing]) {
      await t.inject({ method: 'GET', url: `/api/v1/events/${id}` });
    }
    const unknown = `/not-here/${randomUUID()}`;
    await t.inject({ method: 'GET', url: unknown });

    const response = await t.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toMatch(
      /^app_requests_total\{method="GET",route="\/api\/v1\/events\/:id",status="200"\} 2$/m,
    );
    expect(text).toMatch(
      /^app_requests_total\{method="GET",route="\/api\/v1\/events\/:id",status="404"\} 1$/m,
    );
    expect(text).toMatch(
      /^app_request_duration_seconds_count\{method="GET",route="\/api\/v1\/events\/:id"\} 3$/m,
    );
    expect(text).toMatch(
      /^app_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/v1\/events\/:id"\} \d+$/m,
    );
    expect(text).not.toContain(event.id);
    expect(text).not.toContain(missing);
    expect(text).not.toContain(unknown);
  });

  it('includes the process metrics', async () => {
    const response = await t.inject({ method: 'GET', url: '/metrics' });
    expect(response.body).toContain('process_cpu_user_seconds_total');
    expect(response.body).toContain('# TYPE app_requests_total counter');
    expect(response.body).toContain('# TYPE app_request_duration_seconds histogram');
  });
});

describe('GET /openapi.json', () => {
  const expected: Array<[string, string]> = [
    ['post', '/api/v1/auth/register'],
    ['post', '/api/v1/auth/login'],
    ['post', '/api/v1/auth/refresh'],
    ['post', '/api/v1/auth/logout'],
    ['get', '/api/v1/auth/me'],
    ['post', '/api/v1/venues'],
    ['get', '/api/v1/venues'],
    ['get', '/api/v1/venues/{id}'],
    ['post', '/api/v1/events'],
    ['get', '/api/v1/events'],
    ['patch', '/api/v1/events/{id}'],
    ['post', '/api/v1/events/{id}/publish'],
    ['post', '/api/v1/events/{id}/cancel'],
    ['get', '/api/v1/events/{id}'],
    ['get', '/api/v1/events/{id}/seats'],
    ['get', '/api/v1/admin/users'],
    ['patch', '/api/v1/admin/users/{id}'],
    ['get', '/health/live'],
    ['get', '/health/ready'],
    ['get', '/health/status'],
  ];

  it('describes every route of the API contract built so far', async () => {
    const response = await t.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json<{
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(VERSION);
    const missing = expected.filter(([method, path]) => !doc.paths[path]?.[method]);
    expect(missing).toEqual([]);
  });

  it('marks nothing with a default as required: what the server fills in may be left out', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<unknown>();
    const wronglyRequired: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${at}[${i}]`));
      if (typeof node !== 'object' || node === null) return;
      const object = node as Record<string, unknown>;
      const properties = object.properties as Record<string, { default?: unknown }> | undefined;
      const requiredNames = Array.isArray(object.required) ? (object.required as string[]) : [];
      for (const name of requiredNames) {
        if (properties?.[name]?.default !== undefined) wronglyRequired.push(`${at}.${name}`);
      }
      const schema = object.schema as { default?: unknown } | undefined;
      if (object.in && object.required === true && schema?.default !== undefined) {
        wronglyRequired.push(`${at} (${String(object.name)})`);
      }
      for (const [key, value] of Object.entries(object)) walk(value, `${at}.${key}`);
    };
    walk(doc, '');
    expect(wronglyRequired).toEqual([]);
    // The fields the fuzzer left out, and the server accepted: not required in the document.
    const paths = (doc as { paths: Record<string, Record<string, Record<string, unknown>>> }).paths;
    const listEvents = paths['/api/v1/events']!.get!.parameters as Array<{
      name: string;
      required?: boolean;
    }>;
    expect(listEvents.find((p) => p.name === 'limit')?.required).not.toBe(true);
    const createEvent = paths['/api/v1/events']!.post!.requestBody as {
      content: Record<string, { schema: { required?: string[] } }>;
    };
    const required = createEvent.content['application/json']!.schema.required ?? [];
    expect(required).not.toContain('description');
    expect(required).not.toContain('maxTicketsPerUser');
    expect(required).toContain('name');
  });

  it('documents the bearer scheme on protected routes and problem responses on errors', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<
        string,
        Record<string, { security?: unknown[]; responses: Record<string, unknown> }>
      >;
    }>();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ scheme: 'bearer' });
    const patch = doc.paths['/api/v1/admin/users/{id}']!.patch!;
    expect(patch.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(patch.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409']),
    );
  });

  it('hides the documentation and metrics endpoints themselves', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    expect(doc.paths['/metrics']).toBeUndefined();
    expect(doc.paths['/openapi.json']).toBeUndefined();
  });
});

describe('GET /docs', () => {
  it('serves the API documentation as HTML', async () => {
    let response = await t.inject({ method: 'GET', url: '/docs' });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      response = await t.inject({ method: 'GET', url: String(response.headers.location) });
    }
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body.toLowerCase()).toContain('<html');
    expect(response.body).toMatch(/swagger/i);
  });
});

describe('security headers', () => {
  it('sends helmet headers on API responses', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/events' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('sends them on error responses too', async () => {
    const response = await t.inject({ method: 'GET', url: '/nowhere' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeDefined();
  });
});

describe('CORS', () => {
  let withCors: TestApp;
  beforeAll(async () => {
    withCors = await createTestApp({ CORS_ORIGINS: 'https://shop.example' });
  });
  afterAll(async () => {
    await withCors?.close();
  });

  it('allows a configured origin, on a preflight and on the request itself', async () => {
    const preflight = await withCors.inject({
      method: 'OPTIONS',
      url: '/api/v1/events',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.statusCode).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');

    const get = await withCors.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: { origin: 'https://shop.example' },
    });
    expect(get.statusCode).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(String(get.headers['access-control-expose-headers'])).toMatch(/X-Request-Id/i);
  });

  it('does not allow an origin that is not configured', async () => {
    const preflight = await withCors.inject({
      method: 'OPTIONS',
      url: '/api/v1/events',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const get = await withCors.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: { origin: 'https://evil.example' },
    });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows no cross-origin access at all when CORS_ORIGINS is unset', async () => {
    const get = await t.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: { origin: 'https://shop.example' },
    });
    expect(get.statusCode).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });
});
