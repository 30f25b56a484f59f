import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppWithRoutes, type RegisteredRoute } from './support/route-table.js';
import type { TestApp } from './support/test-app.js';

// The served /openapi.json describes exactly what the server accepts (API.md): for every route
// the app registers (the true table, from an onRoute hook), the document has its operation, and
// the operation's parameters and request body are the route's own validation schema: the same
// names, types and formats, required exactly where the validator requires them, except that a
// field or parameter with a default is never required in the document (the validator fills it
// in; see optionalWhereDefaulted). A property added to a route schema and missing from the
// document, or the other way round, fails here.

/** Routes deliberately left out of the document (`schema.hide`): tooling, not the API. */
const HIDDEN = [
  'GET /docs',
  'GET /docs/json',
  'GET /docs/yaml',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /docs/static/*',
  'GET /openapi.json',
  'GET /metrics',
  // A WebSocket, which OpenAPI cannot describe; API.md documents its messages.
  'GET /api/v1/events/:id/live',
  // The web front end's hashed files (its index.html is the not-found handler's answer).
  'GET /assets/*',
];

type Json = Record<string, unknown>;

interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: Json;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  security?: unknown;
}

/**
 * What a JSON schema says about the values it accepts, in a form both sides can be compared in:
 * types, formats, enumerations, bounds and patterns, object properties (all of them, and which
 * are required: those without a default, when `defaultsOptional`), array items, and unions.
 * Descriptions and examples are documentation and left out.
 */
function shape(schema: unknown, defaultsOptional: boolean): unknown {
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as Json;
  const out: Json = {};
  for (const key of [
    'type',
    'format',
    'pattern',
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'minLength',
    'maxLength',
    'minItems',
    'maxItems',
    'uniqueItems',
    'minProperties',
    'maxProperties',
    'additionalProperties',
    'default',
  ]) {
    if (s[key] !== undefined) {
      out[key] = typeof s[key] === 'object' ? shape(s[key], defaultsOptional) : (s[key] as unknown);
    }
  }
  // `const: x` and `enum: [x]` accept the same.
  if (s.const !== undefined) out.enum = [s.const];
  if (Array.isArray(s.enum)) out.enum = [...(s.enum as unknown[])].sort();
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(s[key]))
      out[key] = (s[key] as unknown[]).map((v) => shape(v, defaultsOptional));
  }
  if (s.items !== undefined) out.items = shape(s.items, defaultsOptional);
  if (s.properties && typeof s.properties === 'object') {
    const properties = s.properties as Record<string, Json>;
    out.properties = Object.fromEntries(
      Object.keys(properties)
        .sort()
        .map((name) => [name, shape(properties[name], defaultsOptional)]),
    );
    out.required = requiredOf(s, defaultsOptional);
  }
  if (s.patternProperties && typeof s.patternProperties === 'object') {
    const patterns = s.patternProperties as Record<string, Json>;
    // TypeBox writes Record<string, T> as one catch-all pattern, which OpenAPI tools show as
    // additionalProperties: T; they accept the same.
    const all = patterns['^(.*)$'];
    if (Object.keys(patterns).length === 1 && all) {
      out.additionalProperties = shape(all, defaultsOptional);
    } else {
      out.patternProperties = Object.fromEntries(
        Object.entries(patterns).map(([pattern, v]) => [pattern, shape(v, defaultsOptional)]),
      );
    }
  }
  return out;
}

/** The required property names; those with a default are not required when the caller may omit them. */
function requiredOf(schema: Json, defaultsOptional: boolean): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return required
    .filter((name) => !defaultsOptional || properties[name]?.default === undefined)
    .sort();
}

/** The parameters a route's schema validates in one location, as the document should show them. */
function expectedParameters(schema: unknown, location: Parameter['in']): Json[] {
  if (!schema) return [];
  const s = schema as Json;
  const properties = (s.properties ?? {}) as Record<string, Json>;
  const required = requiredOf(s, true);
  return Object.keys(properties)
    .sort()
    .map((name) => ({
      in: location,
      name: location === 'header' ? name.toLowerCase() : name,
      required: location === 'path' ? true : required.includes(name),
      schema: shape(properties[name], true),
    }));
}

function documentedParameters(operation: Operation, location: Parameter['in']): Json[] {
  return (operation.parameters ?? [])
    .filter((p) => p.in === location)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      in: p.in,
      name: location === 'header' ? p.name.toLowerCase() : p.name,
      required: p.required ?? false,
      schema: shape(p.schema, false),
    }));
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

let t: TestApp;
let routes: RegisteredRoute[];
let documented: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  ({ t, routes } = await createTestAppWithRoutes());
  const response = await t.inject({ method: 'GET', url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  documented = response.json<{ paths: Record<string, Record<string, Operation>> }>().paths;
});
afterAll(async () => {
  await t?.close();
});

const visible = () => routes.filter((r) => !HIDDEN.includes(r.key));
const operationOf = (route: RegisteredRoute): Operation | undefined =>
  documented[openApiPath(route.url)]?.[route.method.toLowerCase()];

describe('the routes and the operations of /openapi.json', () => {
  it('the hidden routes are exactly those listed in HIDDEN, and none is documented', () => {
    const hidden = routes.filter((r) => r.schema?.hide === true).map((r) => r.key);
    expect(hidden.sort()).toEqual([...HIDDEN].sort());
    for (const route of routes.filter((r) => HIDDEN.includes(r.key))) {
      expect(operationOf(route), route.key).toBeUndefined();
    }
  });

  it('every other route has its operation (method and path, :id as {id})', () => {
    const missing = visible()
      .filter((route) => !operationOf(route))
      .map((r) => r.key);
    expect(missing).toEqual([]);
  });

  it('every documented operation is a route the app has', () => {
    const registered = new Set(routes.map((r) => `${r.method} ${openApiPath(r.url)}`));
    const operations = Object.entries(documented).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['get', 'put', 'post', 'patch', 'delete'].includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((op) => !registered.has(op))).toEqual([]);
    expect(operations.length).toBe(visible().length);
  });
});

describe('each operation documents what its route validates', () => {
  // Each check compares, route by route, what the document says with what the route validates;
  // a mismatch shows as a diff under the route's key.
  const each =
    (view: (route: RegisteredRoute, operation: Operation) => [unknown, unknown]) => () => {
      const documentedViews: Record<string, unknown> = {};
      const validatedViews: Record<string, unknown> = {};
      for (const route of visible()) {
        const operation = operationOf(route);
        if (!operation) continue; // reported above
        [documentedViews[route.key], validatedViews[route.key]] = view(route, operation);
      }
      expect(documentedViews).toEqual(validatedViews);
    };

  it.each([
    ['path', 'params', 'the same names and types, all required'],
    [
      'query',
      'querystring',
      'the same names and types, required only where no default fills them in',
    ],
    ['header', 'headers', 'the same names and types'],
  ] as const)('%s parameters (route schema %s): %s', (where, part, _what) =>
    each((route, operation) => [
      documentedParameters(operation, where),
      expectedParameters(route.schema?.[part], where),
    ])(),
  );

  it(
    'request body: the same properties, types and required fields (defaulted ones optional)',
    each((route, operation) => {
      const content = operation.requestBody?.content;
      const body = route.schema?.body;
      return [
        content &&
          Object.fromEntries(
            Object.entries(content).map(([type, c]) => [type, shape(c.schema, false)]),
          ),
        body && { 'application/json': shape(body, true) },
      ];
    }),
  );

  it(
    'security: the same requirement as the route declares',
    each((route, operation) => [operation.security, (route.schema as Json | undefined)?.security]),
  );
});

describe('the comparison itself', () => {
  it('sees a property a route schema has and the document lacks', () => {
    const route = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } };
    const document = { type: 'object', properties: { a: { type: 'string' } } };
    expect(shape(document, false)).not.toEqual(shape(route, true));
  });

  it('sees a defaulted field the document still marks as required', () => {
    const route = {
      type: 'object',
      required: ['limit'],
      properties: { limit: { type: 'integer', default: 20 } },
    };
    expect(shape(route, false)).not.toEqual(shape(route, true));
    expect(expectedParameters(route, 'query')).toEqual([
      { in: 'query', name: 'limit', required: false, schema: { type: 'integer', default: 20 } },
    ]);
  });

  it('has parameters and bodies to compare: the table is not vacuous', () => {
    const withInput = visible().filter(
      (r) => r.schema?.params || r.schema?.querystring || r.schema?.body || r.schema?.headers,
    );
    expect(withInput.length).toBeGreaterThan(20);
    const defaulted = visible().filter((r) =>
      JSON.stringify({ q: r.schema?.querystring, b: r.schema?.body }).includes('"default"'),
    );
    expect(defaulted.length).toBeGreaterThan(5);
  });
});
