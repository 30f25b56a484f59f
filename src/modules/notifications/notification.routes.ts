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

const UnreadCount = Type.Object({ unread: Type.Integer({ minimum: 0 }) });

const MarkReadBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.String({ format: 'uuid' }), {
        minItems: 1,
        maxItems: 100,
        description: 'omitted: every unread notification of mine',
      }),
    ),
  },
  { additionalProperties: false },
);

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

    app.get(
      '/me/notifications/unread-count',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags: ['notifications'],
          summary: 'How many of my notifications are unread',
          security: bearerSecurity,
          response: { 200: UnreadCount, ...problems(401) },
        },
      },
      async (request) => inbox.unreadCount(principalOf(request).userId),
    );

    app.post(
      '/me/notifications/read',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags: ['notifications'],
          summary: 'Mark my notifications read: those named by ids, or all of them without ids',
          description:
            'Ids that are not the caller’s, or already read, are left alone. Answers how many were marked and how many stay unread.',
          security: bearerSecurity,
          body: MarkReadBody,
          response: {
            200: Type.Object({ marked: Type.Integer({ minimum: 0 }), ...UnreadCount.properties }),
            ...problems(400, 401),
          },
        },
      },
      async (request) => inbox.markRead(principalOf(request).userId, request.body.ids),
    );
  };
}
