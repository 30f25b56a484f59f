import type { Clock } from '../../platform/clock.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import type { NotificationRepository } from './notification.repository.js';

/**
 * A user's in-app notifications: `GET /me/notifications` (newest first), the unread count the
 * web app's badge shows, and marking them read.
 */
export class NotificationInbox {
  constructor(private readonly deps: { notifications: NotificationRepository; clock: Clock }) {}

  async listMine(userId: string, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const page = await this.deps.notifications.listForUser(userId, {
      limit: query.limit,
      after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
    });
    return toPage(
      page,
      (n) => ({
        id: n.id,
        type: n.type,
        title: n.title,
        body: n.body,
        data: n.data,
        createdAt: n.created_at.toISOString(),
        readAt: n.read_at?.toISOString() ?? null,
      }),
      (n) => ({ createdAt: n.created_at.toISOString(), id: n.id }),
    );
  }

  async unreadCount(userId: string): Promise<{ unread: number }> {
    return { unread: await this.deps.notifications.countUnread(userId) };
  }

  /** Marks `ids` (or, without ids, every unread one) read; answers what changed and what is left. */
  async markRead(userId: string, ids?: string[]): Promise<{ marked: number; unread: number }> {
    const { notifications, clock } = this.deps;
    const marked = await notifications.markRead(userId, ids, clock.now());
    return { marked, unread: await notifications.countUnread(userId) };
  }
}
