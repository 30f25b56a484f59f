import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from './support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

// A property-based fuzz test driven by the served /openapi.json: every operation, called by
// four kinds of caller with bodies, query strings and path parameters generated from its own
// schema, some fields valid and some hostile (NUL, lone surrogates, huge or negative numbers,
// wrong types, unknown fields, forged ids). Whatever comes, the answer is never a 5xx, every
// refusal is a problem document with the request's id, and a refused write changes nothing.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

interface Schema {
  type?: string | string[];
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
}

let t: TestApp;
const callers: Array<SignedIn | undefined> = [undefined];
const knownIds: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  const [user, organizer, admin] = await Promise.all([
    t.signUp(),
    t.signUp('organizer'),
    t.signUp('admin'),
  ]);
  callers.push(user, organizer, admin);
  // Real ids among the generated ones, so that some requests reach past the lookups.
  const event = await createEvent(t, organizer!, { capacity: 50 });
  knownIds.push(event.id, user!.id, organizer!.id);
});
afterAll(async () => {
  await t?.close();
});

const hostileString = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '%00',
    '%FF',
    "' OR 1=1 --",
    '../../etc/passwd',
    '+275760-09-13T00:00:00.000Z',
    '2020-13-45T99:99:99Z',
    '-1',
    '1e309',
    'NaN',
    '',
    ' ',
    '😀'.repeat(300),
    'x'.repeat(5000),
    '<script>alert(1)</script>',
    '00000000-0000-0000-0000-000000000000',
    'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, 0.5, true, false, null),
  fc.constant([]),
  fc.constant({}),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

function validish(schema: Schema | undefined): fc.Arbitrary<unknown> {
  if (!schema) return fc.constant('x');
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf?.length) return fc.oneof(...schema.anyOf.map((s) => validish(s)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 100, 1e6) });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(withHostility(schema.items), { maxLength: 3 });
    case 'object':
      return objectOf(schema);
    case 'null':
      return fc.constant(null);
    default:
      if (schema.format === 'uuid') return fc.constantFrom(...knownIds, randomUUID());
      if (schema.format === 'email') return fc.constant(`f-${randomUUID()}@example.test`);
      if (schema.format === 'date-time') {
        return fc.constantFrom(new Date(Date.now() + 86_400_000).toISOString());
      }
      return fc.constant('x'.repeat(Math.max(1, schema.minLength ?? 1)));
  }
}

/**
 * Mostly valid, sometimes hostile: the requests must get past some checks to find bugs. The
 * "almost valid" values pass the schema and carry what only the database would refuse: a NUL
 * inside a string, a date far past year 9999.
 */
function withHostility(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const almostValid = validish(schema).map((value) => {
    if (typeof value !== 'string') return value;
    if (schema?.format === 'date-time') return '+275760-09-13T00:00:00.000Z';
    return schema?.format ? value : `${value}\u0000`;
  });
  return fc.oneof(
    { arbitrary: validish(schema), weight: 4 },
    { arbitrary: almostValid, weight: 1 },
    { arbitrary: hostileValue, weight: 1 },
  );
}

function objectOf(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(schema.properties ?? {}).map(([name, property]) =>
    fc.option(withHostility(property), { nil: undefined }).map((value) => [name, value] as const),
  );
  return fc
    .tuple(
      fc.tuple(...entries),
      // An unknown field now and then (it is refused before anything else is looked at).
      fc.oneof(
        { arbitrary: fc.constant(null), weight: 9 },
        { arbitrary: fc.tuple(hostileString, hostileValue), weight: 1 },
      ),
    )
    .map(([pairs, unknown]) => {
      const body: Record<string, unknown> = {};
      for (const [name, value] of pairs) if (value !== undefined) body[name] = value;
      if (unknown) body[unknown[0]] = unknown[1];
      return body;
    });
}

function operationsOf(document: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
}): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      // Signing out would leave the callers without tokens for the rest of the run.
      if (path.endsWith('/auth/logout')) continue;
      const body = (spec.requestBody as { content?: Record<string, { schema: Schema }> })
        ?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (spec.parameters as Parameter[] | undefined) ?? [],
        ...(body ? { body } : {}),
      });
    }
  }
  return operations;
}

function requestFor(
  operation: Operation,
  draw: { values: unknown[]; body: unknown; caller: SignedIn | undefined },
): InjectOptions {
  let url = operation.path;
  const query = new URLSearchParams();
  operation.parameters.forEach((parameter, i) => {
    const value = draw.values[i];
    if (value === undefined) return;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (parameter.in === 'path') url = url.replace(`{${parameter.name}}`, percentEncoded(text));
    else if (parameter.in === 'query') query.set(parameter.name, text);
  });
  url = url.replace(/\{[^}]+\}/g, () => randomUUID());
  const search = query.toString();
  return {
    method: operation.method as InjectOptions['method'],
    url: search ? `${url}?${search}` : url,
    ...(draw.caller ? { headers: draw.caller.auth } : {}),
    ...(operation.body ? { payload: draw.body as Record<string, unknown> } : {}),
  };
}

/** Every byte of the text's UTF-8 %-escaped (encodeURIComponent throws on lone surrogates). */
const percentEncoded = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

async function fingerprint(): Promise<string> {
  const { rows } = await sql<Record<string, number>>`
    SELECT (SELECT count(*)::int FROM users) AS users,
           (SELECT count(*)::int FROM venues) AS venues,
           (SELECT count(*)::int FROM events) AS events,
           (SELECT count(*)::int FROM holds) AS holds,
           (SELECT count(*)::int FROM bookings) AS bookings,
           (SELECT count(*)::int FROM tickets) AS tickets`.execute(t.deps.database.db);
  return JSON.stringify(rows[0]);
}

describe(`fuzzing every operation of /openapi.json (seed ${SEED}, ${REQUESTS} requests)`, () => {
  it('never answers 5xx; every refusal is a problem document; a refused write changes nothing', async () => {
    const document = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>();
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThan(30);

    const drawing = fc.integer({ min: 0, max: operations.length - 1 }).chain((index) => {
      const operation = operations[index]!;
      return fc.record({
        index: fc.constant(index),
        values: fc.tuple(
          ...operation.parameters.map((p) =>
            p.in === 'path' ? withHostility(p.schema) : fc.option(withHostility(p.schema)),
          ),
        ),
        body: operation.body ? withHostility(operation.body) : fc.constant(undefined),
        caller: fc.constantFrom(...callers),
      });
    });
    const draws = fc.sample(drawing, { seed: SEED, numRuns: REQUESTS });

    const failures: string[] = [];
    const statuses: Record<string, number> = {};
    for (const draw of draws) {
      const operation = operations[draw.index]!;
      const request = requestFor(operation, {
        values: draw.values as unknown[],
        body: draw.body,
        caller: draw.caller,
      });
      const writes = operation.method !== 'GET';
      const before = writes ? await fingerprint() : '';
      const response = await t.inject(request);
      const name = `${operation.method} ${operation.path}`;
      statuses[String(response.statusCode)] = (statuses[String(response.statusCode)] ?? 0) + 1;
      const problem = () => {
        try {
          return response.json<{ code?: string; requestId?: string }>();
        } catch {
          return {};
        }
      };
      if (response.statusCode >= 500) {
        failures.push(`${name}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      } else if (response.statusCode >= 400) {
        const body = problem();
        if (
          !String(response.headers['content-type']).startsWith('application/problem+json') ||
          !body.code ||
          body.requestId !== response.headers['x-request-id']
        ) {
          failures.push(`${name}: ${response.statusCode} not a problem document`);
        }
        if (writes && (await fingerprint()) !== before) {
          failures.push(`${name}: refused with ${response.statusCode} but changed the database`);
        }
      }
      if (failures.length >= 20) break;
    }
    console.info(`fuzz seed=${SEED}`, statuses);
    expect(failures, `seed ${SEED} (FUZZ_SEED=${SEED} replays it)`).toEqual([]);
  }, 300_000);
});
