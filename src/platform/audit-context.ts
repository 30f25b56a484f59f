import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';

/**
 * Who did something and from where, as recorded in the audit log. Built from the request by
 * the route and handed to the service; sagas carry it in their payload so outcomes settled
 * later (by a worker, after a crash) still name the person and request that started them.
 */
export const AuditContextSchema = Type.Object({
  actorId: Type.Union([Type.String(), Type.Null()]),
  /** `user`, `organizer`, `admin`, or `system` when no person acted. */
  actorRole: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
});
export type AuditContext = Static<typeof AuditContextSchema>;

/** Work nobody asked for in a request (sweepers, recovery of sagas older than this log). */
export const SYSTEM_AUDIT_CONTEXT: AuditContext = {
  actorId: null,
  actorRole: 'system',
  ip: null,
  requestId: null,
};

/** The caller as the auth guard established them (none on public routes), with IP and request id. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  return {
    actorId: request.principal?.userId ?? null,
    actorRole: request.principal?.role ?? null,
    ip: request.ip ?? null,
    requestId: request.id,
  };
}

/** The same request, acted on by a user the service has just identified (login, register). */
export function asActor(context: AuditContext, user: { id: string; role: string }): AuditContext {
  return { ...context, actorId: user.id, actorRole: user.role };
}
