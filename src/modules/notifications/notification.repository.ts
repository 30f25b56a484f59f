import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  DB,
  EmailDeliveriesTable,
  NotificationsTable,
} from '../../platform/database/schema.js';
import { newestFirstPage } from '../../platform/database/keyset-page.js';

export type NotificationRow = Selectable<NotificationsTable>;
export type EmailRow = Selectable<EmailDeliveriesTable>;

export class NotificationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Records a batch of notifications (and queues an email for each one given an address),
   * each only if this statement took its message: at most once per message, one autocommitted
   * statement for the whole batch. Answers the queued emails' ids.
   */
  async insertOnce(input: {
    consumer: string;
    notifications: Array<{
      messageId: string;
      userId: string;
      type: string;
      title: string;
      body: string;
      data: Record<string, unknown>;
      /** Where its email goes; null: in-app only. */
      email: string | null;
    }>;
  }): Promise<string[]> {
    if (input.notifications.length === 0) return [];
    const { rows } = await sql<{ email_id: string }>`
      WITH item AS (
        SELECT DISTINCT ON ("messageId") "messageId" AS message_id, "userId", type, title, body, data,
               email
        FROM jsonb_to_recordset(${JSON.stringify(input.notifications)}::jsonb)
             AS x("messageId" uuid, "userId" uuid, type text, title text, body text, data jsonb,
                  email text)
      ), taken AS (
        INSERT INTO processed_messages (consumer, message_id)
        SELECT ${input.consumer}, message_id FROM item
        ON CONFLICT DO NOTHING
        RETURNING message_id
      ), fresh AS (
        -- Ids made here, so each email can name its notification without reading it back.
        SELECT gen_random_uuid() AS id, item.* FROM item JOIN taken USING (message_id)
      ), notification AS (
        INSERT INTO notifications (id, user_id, type, title, body, data)
        SELECT id, "userId", type, title, body, data FROM fresh
        RETURNING id
      ), email AS (
        INSERT INTO email_deliveries (notification_id, to_address, subject, body)
        SELECT fresh.id, fresh.email, fresh.title, fresh.body
        FROM fresh JOIN notification USING (id)
        WHERE fresh.email IS NOT NULL
        RETURNING id
      )
      SELECT id AS email_id FROM email`.execute(this.db);
    return rows.map((r) => r.email_id);
  }

  async listForUser(
    userId: string,
    options: { limit: number; after?: { createdAt: Date; id: string } },
  ): Promise<{ rows: NotificationRow[]; hasMore: boolean }> {
    const query = this.db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
    return newestFirstPage(query, options.limit, options.after);
  }

  /** How many of the user's notifications are unread (the web app's badge). */
  async countUnread(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('read_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Marks the user's unread notifications read: those of `ids` (ids of other users' are
   * ignored), or all of them. Answers how many changed; marking twice changes nothing.
   */
  async markRead(userId: string, ids: string[] | undefined, now: Date): Promise<number> {
    let query = this.db
      .updateTable('notifications')
      .set({ read_at: now })
      .where('user_id', '=', userId)
      .where('read_at', 'is', null);
    if (ids) query = query.where('id', 'in', ids);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Claims one pending email (or a batch of due ones) for sending, with a lease. */
  async claimEmails(now: Date, leaseMs: number, limit: number, id?: string): Promise<EmailRow[]> {
    const { rows } = await sql<EmailRow>`
      UPDATE email_deliveries SET locked_until = ${new Date(now.getTime() + leaseMs)}, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM email_deliveries
        WHERE status = 'pending' AND (locked_until IS NULL OR locked_until <= ${now})
          ${id ? sql`AND id = ${id}` : sql``}
        ORDER BY created_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING *`.execute(this.db);
    return rows;
  }

  async markEmail(
    id: string,
    outcome: { sent: true } | { sent: false; error: string; final: boolean; attempts: number },
  ): Promise<void> {
    await this.db
      .updateTable('email_deliveries')
      .set(
        outcome.sent
          ? { status: 'sent', sent_at: new Date(), locked_until: null }
          : {
              status: outcome.final ? 'failed' : 'pending',
              last_error: outcome.error,
              // Retry after a growing pause, not after the whole claim lease.
              locked_until: new Date(Date.now() + Math.min(2 ** outcome.attempts * 1000, 300_000)),
            },
      )
      .where('id', '=', id)
      .execute();
  }
}
