import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { AppError, notFound } from '../../platform/errors.js';
import type { MessageBus } from '../../platform/ports/message-bus.js';
import { recordAudit, type AuditContext } from '../audit/index.js';
import type { DeadLetterRepository, DeadLetterRow } from './dead-letter.repository.js';

/** The admin's use cases on dead letters: read them, put one back on its queue. */
export class DeadLetterService {
  constructor(
    private readonly deps: { deadLetters: DeadLetterRepository; bus: MessageBus; db: Kysely<DB> },
  ) {}

  page(
    filter: { consumer?: string },
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<{ rows: DeadLetterRow[]; hasMore: boolean }> {
    return this.deps.deadLetters.page(filter, limit, after);
  }

  /** Requeues the message once: a second retry (even a concurrent one) is INVALID_STATE. */
  async retry(id: string, audit: AuditContext): Promise<DeadLetterRow> {
    const { deadLetters, bus } = this.deps;
    // Claim first, so two concurrent retries cannot both requeue the message.
    const letter = await deadLetters.claimForRetry(id);
    if (!letter) {
      if (!(await deadLetters.exists(id))) throw notFound('Dead letter');
      throw new AppError('INVALID_STATE', 'This message was already requeued');
    }
    try {
      await bus.requeue(letter.consumer, {
        messageId: letter.message_id,
        type: letter.type,
        payload: letter.payload,
      });
    } catch (error) {
      await deadLetters.releaseClaim(letter.id);
      throw error;
    }
    // After the requeue (a broker call, outside any transaction): only a retry that happened
    // is recorded.
    await recordAudit(this.deps.db, {
      context: audit,
      action: 'admin.dead_letter_retried',
      target: { type: 'dead_letter', id: letter.id },
      after: { consumer: letter.consumer, type: letter.type, messageId: letter.message_id },
    });
    return letter;
  }
}
