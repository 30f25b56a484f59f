import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, pageOf } from '../../platform/pagination.js';
import { auditContextOf } from '../audit/index.js';
import { AdminUserSchema, UserRoleSchema } from '../users/index.js';
import type { UserAdminService } from './user-admin.service.js';

export function userAdminRoutes(
  service: UserAdminService,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', guards.requireAuth('admin'));
    const tags = ['admin'];

    app.get(
      '/admin/users',
      {
        schema: {
          tags,
          summary: 'List users (oldest first)',
          security: bearerSecurity,
          querystring: Type.Object(
            {
              ...PageQuery,
              role: Type.Optional(UserRoleSchema),
              email: Type.Optional(Type.String({ maxLength: 254, description: 'substring match' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: pageOf(AdminUserSchema), ...problems(400, 401, 403) },
        },
      },
      async (request) => service.list(request.query),
    );

    app.patch(
      '/admin/users/:id',
      {
        schema: {
          tags,
          summary: "Change a user's role or disable them (their tokens stop working at once)",
          security: bearerSecurity,
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          body: Type.Object(
            { role: Type.Optional(UserRoleSchema), disabled: Type.Optional(Type.Boolean()) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: AdminUserSchema, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) =>
        service.update(
          principalOf(request),
          request.params.id,
          request.body,
          auditContextOf(request),
        ),
    );
  };
}
