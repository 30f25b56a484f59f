import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { AppError, notFound } from '../../platform/errors.js';
import { UnknownConsumerError, type MessageBus } from '../../platform/ports/message-bus.js';
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
      // Not requeued: the letter stays, free for another retry.
      await deadLetters.releaseClaim(letter.id);
      throw requeueRefused(letter.consumer, error);
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

function requeueRefused(consumer: string, error: unknown): AppError {
  if (error instanceof UnknownConsumerError) {
    return new AppError(
      'INVALID_STATE',
      `No worker consumes ${consumer} here; start the workers (or the consumer) and retry`,
    );
  }
  return new AppError(
    'SERVICE_UNAVAILABLE',
    'The message broker did not take the message; retry shortly',
    {
      headers: { 'retry-after': '5' },
    },
  );
}
