import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { pageOf } from '../../platform/pagination.js';
import { auditContextOf } from '../audit/index.js';
import {
  CreateEventBody,
  EventListQuery,
  EventSchema,
  SeatMapSchema,
  UpdateEventBody,
} from './event.schemas.js';
import { EncodedAnswers } from '../../platform/encoded-answers.js';
import type { JsonText } from './event-queries.js';
import type { EventsModule } from './events.module.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

// Cached answers are already JSON text: sent as they are, never parsed and re-serialized.
const sendJson = (reply: FastifyReply, json: JsonText | Buffer) =>
  reply.type('application/json; charset=utf-8').send(json);

export function eventRoutes(events: EventsModule, guards: AuthGuards): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Seat maps are the large answers (about 100 bytes a seat): encoded once per version.
    const seatMaps = new EncodedAnswers();
    const tags = ['events'];
    const organizer = guards.requireAuth('organizer', 'admin');

    app.post(
      '/events',
      {
        onRequest: organizer,
        schema: {
          tags,
          summary: 'Create an event (as a draft)',
          security: bearerSecurity,
          body: CreateEventBody,
          response: { 201: EventSchema, ...problems(400, 401, 403) },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await events.create.create(principalOf(request), request.body, auditContextOf(request)),
          ),
    );

    app.patch(
      '/events/:id',
      {
        onRequest: organizer,
        schema: {
          tags,
          summary: 'Change an event (its organizer or an admin)',
          security: bearerSecurity,
          params: IdParams,
          body: UpdateEventBody,
          response: { 200: EventSchema, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) =>
        events.update.update(
          principalOf(request),
          request.params.id,
          request.body,
          auditContextOf(request),
        ),
    );

    app.post(
      '/events/:id/publish',
      {
        onRequest: organizer,
        schema: {
          tags,
          summary: 'Publish a draft; reserved seating gets its seats',
          security: bearerSecurity,
          params: IdParams,
          response: { 200: EventSchema, ...problems(401, 403, 404, 409) },
        },
      },
      async (request) =>
        events.publish.publish(principalOf(request), request.params.id, auditContextOf(request)),
    );

    app.post(
      '/events/:id/cancel',
      {
        onRequest: organizer,
        schema: {
          tags,
          summary: 'Cancel an event (cancelling twice is harmless)',
          security: bearerSecurity,
          params: IdParams,
          response: { 200: EventSchema, ...problems(401, 403, 404) },
        },
      },
      async (request) =>
        events.cancel.cancel(principalOf(request), request.params.id, auditContextOf(request)),
    );

    app.get(
      '/events',
      {
        onRequest: guards.optionalAuth,
        schema: {
          tags,
          summary:
            'List events by start time (published by default; drafts for organizers; organizer=me: the caller’s own)',
          querystring: EventListQuery,
          response: { 200: pageOf(EventSchema), ...problems(400, 401, 403) },
        },
      },
      async (request, reply) =>
        sendJson(reply, await events.queries.listJson(request.principal, request.query)),
    );

    app.get(
      '/events/:id',
      {
        onRequest: guards.optionalAuth,
        schema: {
          tags,
          summary: 'An event with its availability counts',
          params: IdParams,
          response: { 200: EventSchema, ...problems(400, 401, 404) },
        },
      },
      async (request, reply) =>
        sendJson(reply, await events.queries.getJson(request.principal, request.params.id)),
    );

    app.get(
      '/events/:id/seats',
      {
        onRequest: guards.optionalAuth,
        schema: {
          tags,
          summary: 'The seat map: every seat with its status and price',
          params: IdParams,
          response: { 200: SeatMapSchema, ...problems(400, 401, 404) },
        },
      },
      async (request, reply) =>
        sendJson(
          reply,
          seatMaps.bytesOf(
            request.params.id,
            await events.queries.seatMapJson(request.principal, request.params.id),
          ),
        ),
    );
  };
}
