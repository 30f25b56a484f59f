import type { SagaStatus } from '../../platform/database/schema.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import type { SagaRepository } from '../../platform/saga/saga.repository.js';

/** `GET /admin/sagas`: every saga, newest first, with its step and last error. */
export class SagaQueries {
  constructor(private readonly deps: { sagas: SagaRepository }) {}

  async list(query: { limit: number; cursor?: string; status?: SagaStatus }) {
    const after = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const page = await this.deps.sagas.list({
      limit: query.limit,
      status: query.status,
      after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
    });
    return toPage(
      page,
      (s) => ({
        id: s.id,
        type: s.type,
        bookingId: s.booking_id,
        status: s.status,
        step: s.step,
        attempts: s.attempts,
        lastError: s.last_error,
        lockedUntil: s.locked_until?.toISOString() ?? null,
        createdAt: s.created_at.toISOString(),
        updatedAt: s.updated_at.toISOString(),
        finishedAt: s.finished_at?.toISOString() ?? null,
      }),
      (s) => ({ createdAt: s.created_at.toISOString(), id: s.id }),
    );
  }
}
