import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthGuards } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, cursorDate, decodeCursor, pageOf, toPage } from '../../platform/pagination.js';
import type { SagaRepository } from '../../platform/saga/saga.repository.js';

const SagaStatus = Type.Union(
  ['running', 'compensating', 'completed', 'compensated', 'failed'].map((s) => Type.Literal(s)),
);

const SagaRowSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String(),
  bookingId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  status: Type.String(),
  step: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function sagaAdminRoutes(
  sagas: SagaRepository,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/admin/sagas',
      {
        onRequest: guards.requireAuth('admin'),
        schema: {
          tags: ['admin'],
          summary: 'Sagas, newest first, with their step and last error',
          security: bearerSecurity,
          querystring: Type.Object(
            { ...PageQuery, status: Type.Optional(SagaStatus) },
            { additionalProperties: false },
          ),
          response: { 200: pageOf(SagaRowSchema), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const after = decodeCursor(request.query.cursor, ['createdAt', 'id'] as const);
        const page = await sagas.list({
          limit: request.query.limit,
          status: request.query.status as never,
          after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
        });
        return toPage(
          page,
          (s) => ({
            id: s.id,
            type: s.type,
            bookingId: s.booking_id,
            status: s.status,
            step: s.step,
            attempts: s.attempts,
            lastError: s.last_error,
            lockedUntil: s.locked_until?.toISOString() ?? null,
            createdAt: s.created_at.toISOString(),
            updatedAt: s.updated_at.toISOString(),
            finishedAt: s.finished_at?.toISOString() ?? null,
          }),
          (s) => ({ createdAt: s.created_at.toISOString(), id: s.id }),
        );
      },
    );
  };
}
