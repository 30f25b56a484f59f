import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import type { NotificationRepository } from './notification.repository.js';

/** `GET /me/notifications`: a user's in-app notifications, newest first. */
export class NotificationInbox {
  constructor(private readonly deps: { notifications: NotificationRepository }) {}

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
}
