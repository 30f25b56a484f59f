import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '../../platform/pagination.js';
import type { AuditLogRow } from './audit-log.repository.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Snapshot = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]);

export const AuditLogQuery = Type.Object(
  {
    ...PageQuery,
    actor: Type.Optional(Type.String({ format: 'uuid', description: 'the acting user' })),
    action: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: '^[a-z_]+\\.[a-z_]+$',
        description: 'an action name such as auth.login_failed',
      }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
  },
  { additionalProperties: false },
);

export const AuditEntrySchema = Type.Object({
  id: Type.String({ description: 'increasing; ties on occurredAt are ordered by it' }),
  occurredAt: Type.String({ format: 'date-time' }),
  actorId: Nullable(Type.String({ format: 'uuid' })),
  actorRole: Nullable(Type.String({ description: 'user, organizer, admin or system' })),
  action: Type.String(),
  targetType: Nullable(Type.String()),
  targetId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
  before: Snapshot,
  after: Snapshot,
});

export type AuditLogQueryInput = Static<typeof AuditLogQuery>;
export type AuditEntryView = Static<typeof AuditEntrySchema>;

export function toAuditEntryView(row: AuditLogRow): AuditEntryView {
  return {
    id: String(row.id),
    occurredAt: row.occurred_at.toISOString(),
    actorId: row.actor_id,
    actorRole: row.actor_role,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    requestId: row.request_id,
    before: (row.before as Record<string, unknown> | null) ?? null,
    after: (row.after as Record<string, unknown> | null) ?? null,
  };
}
