import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, pageOf } from '../../platform/pagination.js';
import type { NotificationInbox } from './notification-inbox.js';

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
  inbox: NotificationInbox,
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
      async (request) => inbox.listMine(principalOf(request).userId, request.query),
    );
  };
}
