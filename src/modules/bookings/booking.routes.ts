import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { hashRequest, withIdempotency, type IdempotencyStore } from '../../platform/idempotency.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, pageOf } from '../../platform/pagination.js';
import { IdempotencyKeyHeader } from '../holds/hold.schemas.js';
import {
  BookingSchema,
  BookingSummarySchema,
  CancelResponse,
  CreateBookingBody,
  type BookingView,
} from './booking.schemas.js';
import type { BookingService } from './booking.service.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function bookingRoutes(
  bookings: BookingService,
  idempotency: IdempotencyStore,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', guards.requireAuth());
    const tags = ['holds and bookings'];

    app.post(
      '/bookings',
      {
        schema: {
          tags,
          summary: 'Pay for a hold and get tickets',
          description:
            '402 PAYMENT_DECLINED keeps the hold; 503 PAYMENT_UNAVAILABLE (with Retry-After) when the provider is down or slow, the booking is then settled in the background; 410 HOLD_EXPIRED. Send an Idempotency-Key to retry safely.',
          security: bearerSecurity,
          headers: IdempotencyKeyHeader,
          body: CreateBookingBody,
          response: { 201: BookingSchema, ...problems(400, 401, 402, 404, 409, 410, 422, 503) },
        },
      },
      async (request, reply) => {
        const actor = principalOf(request);
        const key = request.headers['idempotency-key'];
        const result = await withIdempotency(
          idempotency,
          key
            ? {
                userId: actor.userId,
                scope: 'booking',
                key,
                requestHash: hashRequest(request.body),
              }
            : undefined,
          async () => ({
            statusCode: 201,
            body: await bookings.book(actor, {
              holdId: request.body.holdId,
              token: request.body.payment.token,
            }),
          }),
        );
        // Errors are thrown (and replayed as errors), so a result is always the 201.
        return reply.status(201).send(result.body as BookingView);
      },
    );

    app.get(
      '/bookings',
      {
        schema: {
          tags,
          summary: 'My bookings, newest first',
          security: bearerSecurity,
          querystring: Type.Object(PageQuery, { additionalProperties: false }),
          response: { 200: pageOf(BookingSummarySchema), ...problems(400, 401) },
        },
      },
      async (request) => bookings.listMine(principalOf(request), request.query),
    );

    app.get(
      '/bookings/:id',
      {
        schema: {
          tags,
          summary: 'A booking with its tickets and saga state (holder, event organizer, admin)',
          security: bearerSecurity,
          params: IdParams,
          response: { 200: BookingSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => bookings.get(principalOf(request), request.params.id),
    );

    app.post(
      '/bookings/:id/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel a confirmed booking: refund, then the seats are available again',
          security: bearerSecurity,
          params: IdParams,
          response: { 200: CancelResponse, ...problems(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request) => bookings.cancel(principalOf(request), request.params.id),
    );
  };
}
