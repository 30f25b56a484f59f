import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { hashRequest, withIdempotency, type IdempotencyStore } from '../../platform/idempotency.js';
import type { AdmissionControl } from '../../platform/admission.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { CreateHoldBody, HoldSchema, IdempotencyKeyHeader, type HoldView } from './hold.schemas.js';
import { auditContextOf } from '../audit/index.js';
import type { HoldService } from './hold.service.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function holdRoutes(
  holds: HoldService,
  idempotency: IdempotencyStore,
  guards: AuthGuards,
  admission: AdmissionControl,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['holds and bookings'];

    app.post(
      '/events/:id/holds',
      {
        // Shed before the token check and the body are paid for.
        onRequest: [async () => admission.assertAdmits(), guards.requireAuth()],
        schema: {
          tags,
          summary: `Hold seats (seatIds) or general-admission tickets (quantity) for a few minutes`,
          description:
            'All or nothing. 409 SEAT_UNAVAILABLE names the taken seats in unavailableSeatIds; 409 SOLD_OUT, TICKET_LIMIT_EXCEEDED, SALES_CLOSED, HOLD_IN_PROGRESS; 503 OVERLOADED (with Retry-After, nothing changed) when the instance has more booking work in flight than it can finish within its latency budget. Send an Idempotency-Key to retry safely.',
          security: bearerSecurity,
          params: IdParams,
          headers: IdempotencyKeyHeader,
          body: CreateHoldBody,
          response: { 201: HoldSchema, ...problems(400, 401, 404, 409, 422, 429, 503) },
        },
      },
      async (request, reply) => {
        const actor = principalOf(request);
        const key = request.headers['idempotency-key'];
        // Shed before anything changes (the idempotency key is not even claimed).
        const result = await admission.run(() =>
          withIdempotency(
            idempotency,
            key
              ? {
                  userId: actor.userId,
                  scope: `hold:${request.params.id}`,
                  key,
                  requestHash: hashRequest(request.body),
                }
              : undefined,
            async (completion) => ({
              statusCode: 201,
              body: await holds.create(
                actor,
                request.params.id,
                request.body,
                auditContextOf(request),
                completion,
              ),
            }),
          ),
        );
        // Errors are thrown (and replayed as errors), so a result is always the 201.
        return reply.status(201).send(result.body as HoldView);
      },
    );

    app.delete(
      '/holds/:id',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags,
          summary: 'Give a hold up; its seats are available again at once',
          security: bearerSecurity,
          params: IdParams,
          response: { 204: { type: 'null', description: 'Released' }, ...problems(401, 404, 409) },
        },
      },
      async (request, reply) => {
        await holds.release(principalOf(request), request.params.id, auditContextOf(request));
        return reply.status(204).send();
      },
    );
  };
}
