import { sql, type Kysely, type RawBuilder } from 'kysely';
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
    if (!(await markTaken(trx, consumer, message))) return false;
    await work(trx);
    return true;
  });
}

/**
 * Records that a consumer took a message, in its own statement; false when it already had.
 * For consumers whose work cannot sit in one transaction (a saga step calls a payment
 * provider) and that carry their own guard against running twice.
 */
export async function markTaken(
  db: Kysely<DB>,
  consumer: string,
  message: BusMessage,
): Promise<boolean> {
  const { rows } = await takeMessage(consumer, message).execute(db);
  return rows.length > 0;
}

/**
 * The processed-messages insert as a fragment for a consumer whose whole work is one
 * statement: `WITH taken AS (${takeMessage(…)}) … WHERE EXISTS (SELECT 1 FROM taken)`. The
 * row and the work then commit together as that one statement, with the same at-most-once
 * guarantee as processOnce and no BEGIN/COMMIT round trips.
 */
export function takeMessage(consumer: string, message: BusMessage): RawBuilder<unknown> {
  return sql`
    INSERT INTO processed_messages (consumer, message_id)
    VALUES (${consumer}, ${message.messageId})
    ON CONFLICT DO NOTHING
    RETURNING message_id`;
}
