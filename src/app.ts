import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Dependencies } from './composition.js';
import { userAdminRoutes } from './modules/admin/user-admin.routes.js';
import { auditLogRoutes } from './modules/audit/audit-log.routes.js';
import { analyticsRoutes } from './modules/analytics/index.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import websocket from '@fastify/websocket';
import { deadLetterRoutes } from './modules/admin/index.js';
import { sagaAdminRoutes } from './modules/admin/saga-admin.routes.js';
import { notificationRoutes } from './modules/notifications/index.js';
import { registerLiveRoutes } from './modules/realtime/index.js';
import { bookingRoutes } from './modules/bookings/index.js';
import { eventRoutes } from './modules/events/event.routes.js';
import { holdRoutes } from './modules/holds/index.js';
import { checkInRoutes, ticketRoutes } from './modules/tickets/index.js';
import { venueRoutes } from './modules/venues/venue.routes.js';
import {
  clientErrorHandler,
  frameworkErrors,
  registerErrorHandling,
} from './platform/error-handler.js';
import { registerHealthRoutes } from './platform/health.js';
import { registerMetrics } from './platform/metrics.js';
import { registerRateLimiting } from './platform/rate-limit.js';
import { requestIdFor } from './platform/request-id.js';
import { optionalWhereDefaulted } from './platform/openapi.js';
import { registerValidation } from './platform/validation.js';
import { APP_CSP_DIRECTIVES, appPageFallback, registerWebAssets } from './platform/web-app.js';
import { VERSION } from './version.js';

export const API_PREFIX = '/api/v1';

/** The API documentation's policy: Swagger UI runs inline scripts and styles. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: validator.swagger.io",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join(';');

export interface AppOptions {
  /** false: a worker process, serving only health, metrics and documentation. */
  api?: boolean;
  /** false silences request logging (tests); otherwise the composition's logger is used. */
  logger?: false;
}

/** Builds the one Fastify application used by `evently serve` and by every test. */
export async function buildApp(
  deps: Dependencies,
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    ...(options.logger === false
      ? { logger: false }
      : { loggerInstance: deps.logger as FastifyBaseLogger }),
    genReqId: requestIdFor,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON is the only body format: anything else is a 415, not a confusing validation error.
  app.removeContentTypeParser('text/plain');
  registerValidation(app);
  // Instances that serve the API also serve the web front end (workers serve no pages).
  registerErrorHandling(app, options.api === false ? undefined : appPageFallback());
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  // The web app's strict policy for every response; /docs (Swagger UI needs inline scripts and
  // styles) gets its own looser one below.
  await app.register(helmet, { contentSecurityPolicy: { directives: APP_CSP_DIRECTIVES } });
  app.addHook('onSend', async (request, reply) => {
    if (request.url === '/docs' || request.url.startsWith('/docs/')) {
      void reply.header('content-security-policy', DOCS_CSP);
    }
  });
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    exposedHeaders: [
      'X-Request-Id',
      'Location',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ],
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Evently API',
        version: VERSION,
        description:
          'Event ticketing that never oversells. Errors are RFC 9457 problem documents. Tokens travel in the Authorization header only, never in cookies, so CSRF does not apply.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transformObject: (document) =>
      optionalWhereDefaulted(
        'openapiObject' in document ? document.openapiObject : document.swaggerObject,
      ),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerMetrics(app, deps.metrics);
  registerHealthRoutes(app, deps.healthChecks, {
    version: VERSION,
    environment: config.env,
    mode: deps.database.mode,
  });

  if (config.rateLimit.enabled) {
    const { windowMs, ipMax, userMax, authMax, holdMax } = config.rateLimit;
    registerRateLimiting(app, deps.rateLimits, {
      windowMs,
      ipMax,
      userMax,
      // Password guessing and sign-up spam, per client address.
      perIp: [
        {
          name: 'auth',
          limit: authMax,
          routes: [`POST ${API_PREFIX}/auth/login`, `POST ${API_PREFIX}/auth/register`],
        },
      ],
      // Seat hoarding in a flash sale, per user.
      perUser: [{ name: 'holds', limit: holdMax, routes: [`POST ${API_PREFIX}/events/:id/holds`] }],
    });
  }
  if (options.api === false) return app;
  const { services, guards, booking, messaging } = deps;
  await app.register(websocket, { options: { maxPayload: 4096 } });
  await app.register(
    async (api) => {
      await api.register(authRoutes(services.auth, guards));
      await api.register(venueRoutes(services.venues, guards));
      await api.register(eventRoutes(services.events, guards));
      await api.register(userAdminRoutes(services.userAdmin, guards));
      await api.register(auditLogRoutes(services.auditLog, guards));
      await api.register(holdRoutes(booking.holds, booking.idempotency, guards, booking.admission));
      await api.register(
        bookingRoutes(booking.bookings, booking.idempotency, guards, booking.admission),
      );
      await api.register(ticketRoutes(services.tickets, guards));
      await api.register(checkInRoutes(services.tickets, guards));
      await api.register(sagaAdminRoutes(services.sagas, guards));
      await api.register(deadLetterRoutes(messaging.deadLetterAdmin, guards));
      await api.register(notificationRoutes(messaging.notifications.inbox, guards));
      await api.register(
        analyticsRoutes({
          analytics: services.analytics,
          events: services.events.ownership,
          bookingsExport: services.bookingsExport,
          guards,
        }),
      );
      registerLiveRoutes(api, services.events.queries, messaging.hub);
    },
    { prefix: API_PREFIX },
  );
  // The web front end's files; its page is the not-found handler's (registerErrorHandling).
  await registerWebAssets(app);
  return app;
}
