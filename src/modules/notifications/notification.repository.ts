import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { DB, EmailDeliveriesTable, NotificationsTable } from '../../infra/postgres/schema.js';
import { newestFirstPage } from '../../infra/postgres/keyset-page.js';

export type NotificationRow = Selectable<NotificationsTable>;
export type EmailRow = Selectable<EmailDeliveriesTable>;

export class NotificationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Records a notification (and, with `email`, queues its email to the user's address) only
   * if `taken` (a `takeMessage` insert) took the message: at most once per message, in one
   * autocommitted statement. Answers the queued email's id, if any.
   */
  async insertOnce(input: {
    taken: RawBuilder<unknown>;
    notification: {
      userId: string;
      type: string;
      title: string;
      body: string;
      data: Record<string, unknown>;
    };
    email: boolean;
  }): Promise<string | undefined> {
    const n = input.notification;
    const { rows } = await sql<{ email_id: string | null }>`
      WITH taken AS (${input.taken}),
      notification AS (
        INSERT INTO notifications (user_id, type, title, body, data)
        SELECT ${n.userId}::uuid, ${n.type}::text, ${n.title}::text, ${n.body}::text,
               ${JSON.stringify(n.data)}::jsonb
        WHERE EXISTS (SELECT 1 FROM taken)
        RETURNING id, user_id, title, body
      ),
      email AS (
        INSERT INTO email_deliveries (notification_id, to_address, subject, body)
        SELECT notification.id, users.email, notification.title, notification.body
        FROM notification JOIN users ON users.id = notification.user_id
        WHERE ${input.email}::boolean
        RETURNING id
      )
      SELECT (SELECT id FROM email) AS email_id`.execute(this.db);
    return rows[0]?.email_id ?? undefined;
  }

  async listForUser(
    userId: string,
    options: { limit: number; after?: { createdAt: Date; id: string } },
  ): Promise<{ rows: NotificationRow[]; hasMore: boolean }> {
    const query = this.db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
    return newestFirstPage(query, options.limit, options.after);
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
