import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthGuards } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, pageOf } from '../../platform/pagination.js';
import type { SagaStatus as SagaStatusValue } from '../../platform/database/schema.js';
import type { SagaQueries } from './saga-queries.js';

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

export function sagaAdminRoutes(sagas: SagaQueries, guards: AuthGuards): FastifyPluginAsyncTypebox {
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
      async (request) =>
        sagas.list({ ...request.query, status: request.query.status as SagaStatusValue }),
    );
  };
}
