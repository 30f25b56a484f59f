import { AppError } from '../../platform/errors.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditLogRepository } from './audit-log.repository.js';
import {
  toAuditEntryView,
  type AuditEntryView,
  type AuditLogQueryInput,
} from './audit-log.schemas.js';

export class AuditLogService {
  constructor(private readonly log: AuditLogRepository) {}

  /** The log newest first, narrowed by actor, action and a time window [from, to). */
  async list(
    query: AuditLogQueryInput,
  ): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
    const from = query.from ? new Date(query.from) : undefined;
    const to = query.to ? new Date(query.to) : undefined;
    if (from && to && from > to) {
      throw new AppError('VALIDATION_FAILED', 'from must not be after to', {
        errors: [{ field: 'querystring.from', message: 'must not be after to' }],
      });
    }
    const before = decodeCursor(query.cursor, ['occurredAt', 'id'] as const, 'integer');
    if (before && !/^\d{1,19}$/.test(before.id)) {
      throw new AppError('VALIDATION_FAILED', 'cursor is not one this server issued', {
        errors: [{ field: 'querystring.cursor', message: 'is not a valid cursor' }],
      });
    }
    const page = await this.log.list({
      limit: query.limit,
      actorId: query.actor,
      action: query.action,
      from,
      to,
      before: before && { occurredAt: cursorDate(before.occurredAt), id: before.id },
    });
    return toPage(page, toAuditEntryView, (row) => ({
      occurredAt: row.occurred_at.toISOString(),
      id: String(row.id),
    }));
  }
}
