import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthGuards } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, cursorDate, decodeCursor, pageOf, toPage } from '../../platform/pagination.js';
import { auditContextOf } from '../audit/index.js';
import type { DeadLetterService } from './dead-letter.service.js';

const DeadLetterSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  consumer: Type.String(),
  messageId: Type.String({ format: 'uuid' }),
  type: Type.String(),
  payload: Type.Record(Type.String(), Type.Unknown()),
  error: Type.String(),
  attempts: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  retriedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function deadLetterRoutes(
  deadLetters: DeadLetterService,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', guards.requireAuth('admin'));
    const tags = ['admin'];

    app.get(
      '/admin/dead-letters',
      {
        schema: {
          tags,
          summary: 'Messages that failed every attempt, newest first',
          security: bearerSecurity,
          querystring: Type.Object(
            { ...PageQuery, consumer: Type.Optional(Type.String({ maxLength: 100 })) },
            { additionalProperties: false },
          ),
          response: { 200: pageOf(DeadLetterSchema), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const after = decodeCursor(request.query.cursor, ['createdAt', 'id'] as const);
        const page = await deadLetters.page(
          { consumer: request.query.consumer },
          request.query.limit,
          after && { createdAt: cursorDate(after.createdAt), id: after.id },
        );
        return toPage(
          page,
          (d) => ({
            id: d.id,
            consumer: d.consumer,
            messageId: d.message_id,
            type: d.type,
            payload: d.payload,
            error: d.error,
            attempts: d.attempts,
            createdAt: d.created_at.toISOString(),
            retriedAt: d.retried_at?.toISOString() ?? null,
          }),
          (d) => ({ createdAt: d.created_at.toISOString(), id: d.id }),
        );
      },
    );

    app.post(
      '/admin/dead-letters/:id/retry',
      {
        schema: {
          tags,
          summary: 'Put a dead-lettered message back on its consumer’s queue',
          security: bearerSecurity,
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          response: {
            202: Type.Object({ id: Type.String(), status: Type.Literal('requeued') }),
            ...problems(400, 401, 403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const letter = await deadLetters.retry(request.params.id, auditContextOf(request));
        return reply.status(202).send({ id: letter.id, status: 'requeued' as const });
      },
    );
  };
}
