import { useState } from 'react';
import { Link } from 'react-router';
import { api, type paths } from '../api/client';
import { problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { usePageTitle } from '../components/use-page-title';
import { useCursorList } from '../components/use-cursor-list';
import { when } from '../format';
import { unreadCount, useUnreadCount } from '../notifications/unread-count';
import { RequireSignIn } from '../session/sign-in-redirect';

type Notification =
  paths['/api/v1/me/notifications']['get']['responses'][200]['content']['application/json']['items'][number];

/** The signed-in user's in-app notifications, newest first, unread ones marked. */
export function NotificationsPage() {
  usePageTitle('Notifications');
  return (
    <RequireSignIn>
      <Inbox />
    </RequireSignIn>
  );
}

function Inbox() {
  const list = useCursorList<Notification>('inbox', (cursor) =>
    api.GET('/api/v1/me/notifications', { params: { query: { cursor } } }),
  );
  const unread = useUnreadCount();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  /** Marks some (or, without ids, all) read, then shows them read without reloading the list. */
  const markRead = async (ids?: string[]) => {
    setBusy(true);
    const {
      data,
      error: problem,
      response,
    } = await api.POST('/api/v1/me/notifications/read', {
      body: ids ? { ids } : {},
    });
    setBusy(false);
    if (!data) return setError(problemMessage(problem, response));
    setError(null);
    unreadCount.set(data.unread);
    const readAt = new Date().toISOString();
    for (const item of list.items ?? []) {
      if (item.readAt === null && (!ids || ids.includes(item.id)))
        list.replace((n) => n.id === item.id, { ...item, readAt });
    }
  };

  return (
    <section>
      <h1>Notifications</h1>
      <div className="toolbar">
        <p className="muted" role="status">
          {unread === null ? '' : unread === 0 ? 'All caught up.' : `${unread} unread`}
        </p>
        {!!list.items?.length && (
          <button
            type="button"
            className="button button-secondary button-small"
            disabled={busy || !unread}
            onClick={() => void markRead()}
          >
            Mark all as read
          </button>
        )}
      </div>
      <Alert message={error ?? list.error} />
      {list.items === null && !list.error && <p className="muted">Loading…</p>}
      {list.items?.length === 0 && (
        <p className="muted">
          No notifications yet. When a booking is confirmed or cancelled, you will find it here.
        </p>
      )}
      <ul className="list">
        {list.items?.map((n) => (
          <NotificationItem key={n.id} n={n} busy={busy} onRead={() => void markRead([n.id])} />
        ))}
      </ul>
      {list.more && (
        <button type="button" className="button button-secondary" onClick={list.more}>
          More notifications
        </button>
      )}
    </section>
  );
}

function NotificationItem({
  n,
  busy,
  onRead,
}: {
  n: Notification;
  busy: boolean;
  onRead: () => void;
}) {
  const unread = n.readAt === null;
  const bookingId = typeof n.data.bookingId === 'string' ? n.data.bookingId : null;
  return (
    <li className={unread ? 'card notification notification-unread' : 'card notification'}>
      <div className="notification-head">
        <h2>
          {unread && <span className="visually-hidden">Unread: </span>}
          {n.title}
        </h2>
        <time className="muted small" dateTime={n.createdAt}>
          {when(n.createdAt)}
        </time>
      </div>
      <p>{n.body}</p>
      <div className="button-row">
        {bookingId && <Link to={`/bookings/${bookingId}`}>View booking</Link>}
        {unread && (
          <button type="button" className="link-button" disabled={busy} onClick={onRead}>
            Mark as read
          </button>
        )}
      </div>
    </li>
  );
}
