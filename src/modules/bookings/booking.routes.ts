import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { auditContextOf } from '../audit/index.js';
import { hashRequest, withIdempotency, type IdempotencyStore } from '../../platform/idempotency.js';
import type { AdmissionControl } from '../../platform/admission.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, pageOf } from '../../platform/pagination.js';
import { IdempotencyKeyHeader } from '../holds/index.js';
import {
  BookingSchema,
  BookingSummarySchema,
  CancelResponse,
  CreateBookingBody,
  type BookingView,
} from './booking.schemas.js';
import type { BookingUseCases } from './booking.module.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const AcceptedBooking = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.String({ description: 'pending until the saga settles; poll Location' }),
});

export function bookingRoutes(
  bookings: BookingUseCases,
  idempotency: IdempotencyStore,
  guards: AuthGuards,
  admission: AdmissionControl,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    // A new booking is shed before the token check and the body are paid for.
    app.addHook('onRequest', async (request) => {
      if (request.method === 'POST' && request.routeOptions.url?.endsWith('/bookings')) {
        admission.assertAdmits();
      }
    });
    app.addHook('onRequest', guards.requireAuth());
    const tags = ['holds and bookings'];

    app.post(
      '/bookings',
      {
        schema: {
          tags,
          summary: 'Pay for a hold and get tickets',
          description:
            '402 PAYMENT_DECLINED keeps the hold; 503 OVERLOADED (with Retry-After, nothing changed) when the instance has more booking work in flight than it can finish within its latency budget; 503 PAYMENT_UNAVAILABLE (with Retry-After) when the provider is down or slow, the booking is then settled in the background; 410 HOLD_EXPIRED. Send an Idempotency-Key to retry safely.',
          security: bearerSecurity,
          headers: Type.Composite([
            IdempotencyKeyHeader,
            Type.Object({
              prefer: Type.Optional(
                Type.String({ maxLength: 200, description: 'respond-async: answer 202 at once' }),
              ),
            }),
          ]),
          body: CreateBookingBody,
          response: {
            201: BookingSchema,
            202: AcceptedBooking,
            ...problems(400, 401, 402, 404, 409, 410, 422, 503),
          },
        },
      },
      async (request, reply) => {
        const actor = principalOf(request);
        const key = request.headers['idempotency-key'];
        const input = { holdId: request.body.holdId, token: request.body.payment.token };
        const async = /\brespond-async\b/i.test(request.headers.prefer ?? '');
        // Shed before anything changes (the idempotency key is not even claimed).
        const result = await admission.run(() =>
          withIdempotency(
            idempotency,
            key
              ? {
                  userId: actor.userId,
                  scope: async ? 'booking-async' : 'booking',
                  key,
                  requestHash: hashRequest(request.body),
                }
              : undefined,
            async () => {
              const audit = auditContextOf(request);
              if (!async)
                return { statusCode: 201, body: await bookings.book.book(actor, input, audit) };
              const booking = await bookings.book.bookAsync(actor, input, audit);
              return { statusCode: 202, body: { id: booking.id, status: booking.status } };
            },
          ),
        );
        // Errors are thrown (and replayed as errors), so a result is a 201 or a 202.
        if (result.statusCode === 202) {
          const accepted = result.body as { id: string; status: 'pending' };
          return reply
            .status(202)
            .header('location', `/api/v1/bookings/${accepted.id}`)
            .header('preference-applied', 'respond-async')
            .send(accepted);
        }
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
      async (request) => bookings.queries.listMine(principalOf(request), request.query),
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
      async (request) => bookings.queries.get(principalOf(request), request.params.id),
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
      async (request) =>
        bookings.cancel.cancel(principalOf(request), request.params.id, auditContextOf(request)),
    );
  };
}
