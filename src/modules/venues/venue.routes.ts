import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, pageOf } from '../../platform/pagination.js';
import { auditContextOf } from '../audit/index.js';
import { CreateVenueBody, VenueDetail, VenueSummary } from './venue.schemas.js';
import type { VenueService } from './venue.service.js';

export function venueRoutes(venues: VenueService, guards: AuthGuards): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', guards.requireAuth('organizer', 'admin'));
    const tags = ['venues'];

    app.post(
      '/venues',
      {
        schema: {
          tags,
          summary: 'Create a venue with its seat layout',
          security: bearerSecurity,
          body: CreateVenueBody,
          response: { 201: VenueDetail, ...problems(400, 401, 403) },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(await venues.create(principalOf(request), request.body, auditContextOf(request))),
    );

    app.get(
      '/venues',
      {
        schema: {
          tags,
          summary: 'List venues (owner=me: the caller’s own)',
          security: bearerSecurity,
          querystring: Type.Object(
            {
              ...PageQuery,
              city: Type.Optional(Type.String({ maxLength: 100 })),
              owner: Type.Optional(
                Type.Literal('me', { description: 'Only the venues the caller created' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: pageOf(VenueSummary), ...problems(400, 401, 403) },
        },
      },
      async (request) => venues.list(request.query, principalOf(request)),
    );

    app.get(
      '/venues/:id',
      {
        schema: {
          tags,
          summary: 'A venue with its sections, rows and seat count',
          security: bearerSecurity,
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          response: { 200: VenueDetail, ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => venues.get(request.params.id),
    );
  };
}
