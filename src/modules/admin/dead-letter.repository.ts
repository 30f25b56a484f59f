import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { newestFirstPage } from '../../platform/database/keyset-page.js';
import type { DB, DeadLettersTable } from '../../platform/database/schema.js';
import type { BusMessage } from '../../platform/ports/message-bus.js';

export type DeadLetterRow = Selectable<DeadLettersTable>;

/**
 * The one owner of `dead_letters`: the bus records a message that failed every attempt, the
 * admin routes page through them and requeue one, the metrics count those not yet retried.
 */
export class DeadLetterRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async record(consumer: string, message: BusMessage, error: string, attempts: number) {
    await this.db
      .insertInto('dead_letters')
      .values({
        consumer,
        message_id: message.messageId,
        type: message.type,
        payload: JSON.stringify(message.payload),
        error: error.slice(0, 2000),
        attempts,
      })
      .execute();
  }

  /** Newest first, optionally of one consumer, after the cursor's position. */
  page(
    filter: { consumer?: string },
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<{ rows: DeadLetterRow[]; hasMore: boolean }> {
    let query = this.db.selectFrom('dead_letters').selectAll();
    if (filter.consumer) query = query.where('consumer', '=', filter.consumer);
    return newestFirstPage(query, limit, after);
  }

  /**
   * Marks a letter as being retried and returns it; undefined when it does not exist or was
   * already retried (`exists` tells which). Claiming first means two concurrent retries
   * cannot both requeue the message.
   */
  claimForRetry(id: string): Promise<DeadLetterRow | undefined> {
    return this.db
      .updateTable('dead_letters')
      .set({ retried_at: new Date() })
      .where('id', '=', id)
      .where('retried_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  /** Undoes a claim whose requeue failed, so the letter can be retried again. */
  async releaseClaim(id: string): Promise<void> {
    await this.db
      .updateTable('dead_letters')
      .set({ retried_at: null })
      .where('id', '=', id)
      .execute();
  }

  async exists(id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('dead_letters')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Letters not yet retried, counted per consumer (the `dead_letters` gauge). */
  unretriedByConsumer(): Promise<Array<{ consumer: string; count: number }>> {
    return this.db
      .selectFrom('dead_letters')
      .select(['consumer', sql<number>`count(*)::int`.as('count')])
      .where('retried_at', 'is', null)
      .groupBy('consumer')
      .execute();
  }
}
