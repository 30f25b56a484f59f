import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../database/schema.js';
import type { BusMessage } from '../ports/message-bus.js';

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
 * row and the work commit together as that one statement, so a redelivered duplicate finds
 * the row and does nothing (at most once per message), with no BEGIN/COMMIT round trips.
 */
export function takeMessage(consumer: string, message: BusMessage): RawBuilder<unknown> {
  return sql`
    INSERT INTO processed_messages (consumer, message_id)
    VALUES (${consumer}, ${message.messageId})
    ON CONFLICT DO NOTHING
    RETURNING message_id`;
}
