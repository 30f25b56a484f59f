import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import type { EventOwnership } from '../events/index.js';
import {
  AnalyticsQuery,
  EventAnalytics,
  EventAnalyticsQuery,
  PlatformAnalytics,
} from './analytics.schemas.js';
import type { AnalyticsService } from './analytics.service.js';
import type { BookingsExport } from './booking-export.js';

const EventParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

export function analyticsRoutes(deps: {
  analytics: AnalyticsService;
  events: EventOwnership;
  bookingsExport: BookingsExport;
  guards: AuthGuards;
}): FastifyPluginAsyncTypebox {
  const { analytics, guards } = deps;
  return async (app) => {
    const tags = ['analytics'];

    app.get(
      '/admin/analytics',
      {
        onRequest: guards.requireAuth('admin'),
        schema: {
          tags,
          summary: 'Platform totals, top events, utilization, daily and hourly stats',
          security: bearerSecurity,
          querystring: AnalyticsQuery,
          response: { 200: PlatformAnalytics, ...problems(400, 401, 403) },
        },
      },
      async (request) => analytics.overview({ kind: 'platform' }, request.query),
    );

    app.get(
      '/me/analytics',
      {
        onRequest: guards.requireAuth('organizer', 'admin'),
        schema: {
          tags,
          summary: 'The same, over the events the caller organizes',
          security: bearerSecurity,
          querystring: AnalyticsQuery,
          response: { 200: PlatformAnalytics, ...problems(400, 401, 403) },
        },
      },
      async (request) =>
        analytics.overview(
          { kind: 'organizer', organizerId: principalOf(request).userId },
          request.query,
        ),
    );

    app.get(
      '/events/:id/analytics',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags,
          summary: 'One event’s inventory and sales (its organizer or an admin)',
          security: bearerSecurity,
          params: EventParams,
          querystring: EventAnalyticsQuery,
          response: { 200: EventAnalytics, ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => analytics.forEvent(principalOf(request), request.params.id, request.query),
    );

    app.get(
      '/events/:id/bookings.csv',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags,
          summary: 'The event’s bookings and attendees as CSV, streamed (organizer or admin)',
          security: bearerSecurity,
          params: EventParams,
          produces: ['text/csv'],
          response: {
            200: Type.Unsafe<Readable>({ type: 'string', description: 'text/csv, RFC 4180' }),
            ...problems(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const event = await deps.events.ownedEvent(principalOf(request), request.params.id);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="event-${event.id}-bookings.csv"`)
          .header('cache-control', 'no-store')
          .send(deps.bookingsExport.csvOf(event.id));
      },
    );
  };
}
