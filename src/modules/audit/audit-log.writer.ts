import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { AuditContext } from '../../platform/audit-context.js';

/**
 * Every action the audit log records. The names are stable (reports and alerts match on
 * them): add new ones, never rename. docs/data-model.md lists what each one holds.
 */
export const AUDIT_ACTIONS = [
  'auth.registered',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.session_ended',
  'auth.refresh_reused',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'venue.created',
  'event.created',
  'event.updated',
  'event.published',
  'event.cancelled',
  'event.scanner_granted',
  'event.scanner_revoked',
  'hold.created',
  'hold.released',
  'booking.confirmed',
  'booking.failed',
  'booking.cancelled',
  'payment.refunded',
  'ticket.checked_in',
  'admin.dead_letter_retried',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Where other modules append to the audit log outside a transaction of their own. */
export interface AuditTrail {
  append(entry: AuditEntry): Promise<void>;
}

export interface AuditEntry {
  context: AuditContext;
  action: AuditAction;
  target?: { type: string; id: string };
  /** The changed fields as they were (updates only). Never secrets: no tokens or passwords. */
  before?: Record<string, unknown>;
  /** The changed fields as they became, or what was created. Never secrets either. */
  after?: Record<string, unknown>;
}

/**
 * Appends one row to the audit log through `executor`: pass the transaction that makes the
 * change, so the row exists exactly when the change was committed.
 */
export async function recordAudit(executor: Kysely<DB>, entry: AuditEntry): Promise<void> {
  const { context } = entry;
  await executor
    .insertInto('audit_log')
    .values({
      actor_id: context.actorId,
      actor_role: context.actorRole,
      action: entry.action,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id ?? null,
      ip: context.ip,
      request_id: context.requestId,
      before: entry.before ? JSON.stringify(entry.before) : null,
      after: entry.after ? JSON.stringify(entry.after) : null,
    })
    .execute();
}

/** The fields whose values differ between two views of a thing, as `{before, after}`. */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  ignore: readonly string[] = [],
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const changed = Object.keys(after).filter(
    (key) => !ignore.includes(key) && JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
  return {
    before: Object.fromEntries(changed.map((key) => [key, before[key] ?? null])),
    after: Object.fromEntries(changed.map((key) => [key, after[key]])),
  };
}
