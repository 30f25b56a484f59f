import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, EmailDeliveriesTable, NotificationsTable } from '../../infra/postgres/schema.js';
import { newestFirstPage } from '../../infra/postgres/keyset-page.js';

export type NotificationRow = Selectable<NotificationsTable>;
export type EmailRow = Selectable<EmailDeliveriesTable>;

export class NotificationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  insert(
    trx: Kysely<DB>,
    n: { userId: string; type: string; title: string; body: string; data: Record<string, unknown> },
  ): Promise<NotificationRow> {
    return trx
      .insertInto('notifications')
      .values({
        user_id: n.userId,
        type: n.type,
        title: n.title,
        body: n.body,
        data: JSON.stringify(n.data),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async queueEmail(
    trx: Kysely<DB>,
    email: { notificationId: string; to: string; subject: string; body: string },
  ): Promise<string> {
    const row = await trx
      .insertInto('email_deliveries')
      .values({
        notification_id: email.notificationId,
        to_address: email.to,
        subject: email.subject,
        body: email.body,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
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
