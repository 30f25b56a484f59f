import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthGuards } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { pageOf } from '../../platform/pagination.js';
import { AuditEntrySchema, AuditLogQuery } from './audit-log.schemas.js';
import type { AuditLogService } from './audit-log.service.js';

export function auditLogRoutes(
  auditLog: AuditLogService,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/admin/audit-log',
      {
        onRequest: guards.requireAuth('admin'),
        schema: {
          tags: ['admin'],
          summary: 'The audit log of security- and money-relevant actions, newest first',
          description:
            'Filters: actor (user id), action (e.g. auth.login_failed), from (inclusive) and to (exclusive) as ISO date-times. The log is append-only.',
          security: bearerSecurity,
          querystring: AuditLogQuery,
          response: { 200: pageOf(AuditEntrySchema), ...problems(400, 401, 403) },
        },
      },
      async (request) => auditLog.list(request.query),
    );
  };
}
