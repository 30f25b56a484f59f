import { sql, type Kysely } from 'kysely';
import type { DB } from '../../infra/postgres/schema.js';
import type { BusMessage } from '../ports/message-bus.js';

/**
 * Runs a consumer's database work at most once per message: the processed-messages row is
 * written in the same transaction, so a redelivered duplicate finds it and does nothing.
 * Returns false for a duplicate.
 */
export async function processOnce(
  db: Kysely<DB>,
  consumer: string,
  message: BusMessage,
  work: (trx: Kysely<DB>) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql`
      INSERT INTO processed_messages (consumer, message_id)
      VALUES (${consumer}, ${message.messageId})
      ON CONFLICT DO NOTHING
      RETURNING message_id`.execute(trx);
    if (rows.length === 0) return false;
    await work(trx);
    return true;
  });
}
