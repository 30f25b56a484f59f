import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { createTestApp, type TestApp, type TestAppOptions } from './test-app.js';

/** One method and path the app answers, as Fastify registered it (with the prefix). */
export interface RegisteredRoute {
  /** `METHOD /path`, e.g. `GET /api/v1/bookings/:id`. */
  key: string;
  method: string;
  url: string;
  schema: (FastifySchema & { hide?: boolean }) | undefined;
  websocket: boolean;
  options: RouteOptions;
}

/** HEAD twins of GET routes and CORS preflights: Fastify and plugins add them, not the app. */
const IGNORED_METHODS = new Set(['HEAD', 'OPTIONS']);

/**
 * A test app together with the true table of routes it registered: an `onRoute` hook is added
 * to the Fastify instance the moment it is constructed (Fastify announces every new instance on
 * the `fastify.initialization` diagnostics channel), before any plugin or route, so every route
 * the real app registers passes through it, with its options and schema as Fastify keeps them.
 */
export async function createTestAppWithRoutes(
  overrides: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<{ t: TestApp; routes: RegisteredRoute[] }> {
  const seen = new Map<FastifyInstance, RegisteredRoute[]>();
  const onInit = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance };
    const routes: RegisteredRoute[] = [];
    seen.set(fastify, routes);
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (IGNORED_METHODS.has(method)) continue;
        const url = route.url ?? route.path;
        routes.push({
          key: `${method} ${url}`,
          method,
          url,
          schema: route.schema as RegisteredRoute['schema'],
          websocket: Boolean((route as { websocket?: boolean }).websocket),
          options: route,
        });
      }
    });
  };
  subscribe('fastify.initialization', onInit);
  let t: TestApp;
  try {
    t = await createTestApp(overrides, options);
  } finally {
    unsubscribe('fastify.initialization', onInit);
  }
  const routes = seen.get(t.app);
  if (!routes || routes.length === 0) {
    await t.close();
    throw new Error('the app was built without passing through the route-table hook');
  }
  return { t, routes };
}
