import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, cursorDate, decodeCursor, pageOf, toPage } from '../../platform/pagination.js';
import type { NotificationRepository } from './notification.repository.js';

const NotificationSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String(),
  title: Type.String(),
  body: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  readAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function notificationRoutes(
  notifications: NotificationRepository,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/me/notifications',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags: ['notifications'],
          summary: 'My in-app notifications, newest first',
          security: bearerSecurity,
          querystring: Type.Object(PageQuery, { additionalProperties: false }),
          response: { 200: pageOf(NotificationSchema), ...problems(400, 401) },
        },
      },
      async (request) => {
        const after = decodeCursor(request.query.cursor, ['createdAt', 'id'] as const);
        const page = await notifications.listForUser(principalOf(request).userId, {
          limit: request.query.limit,
          after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
        });
        return toPage(
          page,
          (n) => ({
            id: n.id,
            type: n.type,
            title: n.title,
            body: n.body,
            data: n.data,
            createdAt: n.created_at.toISOString(),
            readAt: n.read_at?.toISOString() ?? null,
          }),
          (n) => ({ createdAt: n.created_at.toISOString(), id: n.id }),
        );
      },
    );
  };
}
