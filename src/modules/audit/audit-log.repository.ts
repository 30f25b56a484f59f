import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditLogTable, DB } from '../../platform/database/schema.js';
import { recordAudit, type AuditEntry, type AuditTrail } from './audit-log.writer.js';

export type AuditLogRow = Selectable<AuditLogTable>;

export interface AuditLogFilters {
  limit: number;
  actorId?: string;
  action?: string;
  from?: Date;
  to?: Date;
  before?: { occurredAt: Date; id: string };
}

export class AuditLogRepository implements AuditTrail {
  constructor(private readonly db: Kysely<DB>) {}

  /** For changes made outside a transaction of ours (a login, a failed login, a requeue). */
  append(entry: AuditEntry): Promise<void> {
    return recordAudit(this.db, entry);
  }

  /** Newest first by (occurred_at, id); one extra row tells whether another page follows. */
  async list(filters: AuditLogFilters): Promise<{ rows: AuditLogRow[]; hasMore: boolean }> {
    let query = this.db.selectFrom('audit_log').selectAll();
    if (filters.actorId) query = query.where('actor_id', '=', filters.actorId);
    if (filters.action) query = query.where('action', '=', filters.action);
    if (filters.from) query = query.where('occurred_at', '>=', filters.from);
    if (filters.to) query = query.where('occurred_at', '<', filters.to);
    if (filters.before) {
      const { occurredAt, id } = filters.before;
      // A row-value comparison walks the (occurred_at, id) index backwards in order.
      query = query.where(
        sql<boolean>`(occurred_at, id) < (${occurredAt}::timestamptz, ${id}::bigint)`,
      );
    }
    const rows = await query
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filters.limit + 1)
      .execute();
    return { rows: rows.slice(0, filters.limit), hasMore: rows.length > filters.limit };
  }
}
