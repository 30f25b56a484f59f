import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { DB } from '../../infra/postgres/schema.js';
import type { AuthGuards } from '../../platform/auth-guard.js';
import { AppError, notFound } from '../../platform/errors.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, cursorDate, decodeCursor, pageOf, toPage } from '../../platform/pagination.js';
import type { MessageBus } from '../../platform/ports/message-bus.js';
import { auditContextOf, recordAudit } from '../audit/index.js';
import type { DeadLetterRepository } from './dead-letter.repository.js';

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
  deadLetters: DeadLetterRepository,
  bus: MessageBus,
  guards: AuthGuards,
  /** Where the retry's audit row is written. */
  auditDb: Kysely<DB>,
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
        // Claim first, so two concurrent retries cannot both requeue the message.
        const letter = await deadLetters.claimForRetry(request.params.id);
        if (!letter) {
          if (!(await deadLetters.exists(request.params.id))) throw notFound('Dead letter');
          throw new AppError('INVALID_STATE', 'This message was already requeued');
        }
        try {
          await bus.requeue(letter.consumer, {
            messageId: letter.message_id,
            type: letter.type,
            payload: letter.payload,
          });
        } catch (error) {
          await deadLetters.releaseClaim(letter.id);
          throw error;
        }
        // After the requeue (a broker call, outside any transaction): only a retry that
        // happened is recorded.
        await recordAudit(auditDb, {
          context: auditContextOf(request),
          action: 'admin.dead_letter_retried',
          target: { type: 'dead_letter', id: letter.id },
          after: { consumer: letter.consumer, type: letter.type, messageId: letter.message_id },
        });
        return reply.status(202).send({ id: letter.id, status: 'requeued' as const });
      },
    );
  };
}
