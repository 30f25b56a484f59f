import { useEffect, useSyncExternalStore } from 'react';
import { useLocation } from 'react-router';
import { api } from '../api/client';
import { session, useSessionUser } from '../session/session';

/** Gentle: a badge a minute late is fine, a request a second is not. */
const POLL_MS = 60_000;
/** Navigating refreshes the badge, but no more often than this. */
const MIN_GAP_MS = 10_000;

/**
 * The signed-in user's unread notification count, shared by the header badge and the
 * notifications page (which sets it after marking notifications read).
 */
class UnreadCount {
  private value: number | null = null;
  private fetchedAt = 0;
  private readonly listeners = new Set<() => void>();

  current = () => this.value;

  set(value: number | null): void {
    this.value = value;
    this.fetchedAt = Date.now();
    for (const listener of this.listeners) listener();
  }

  async refresh({ force = false } = {}): Promise<void> {
    if (!session.currentUser()) return this.set(null);
    if (!force && Date.now() - this.fetchedAt < MIN_GAP_MS) return;
    this.fetchedAt = Date.now();
    const { data } = await api.GET('/api/v1/me/notifications/unread-count');
    // Signed out while asking: show nothing rather than the previous user's count.
    if (data && session.currentUser()) this.set(data.unread);
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export const unreadCount = new UnreadCount();

/**
 * The badge's number: fetched on sign-in, after each navigation (at most every 10 s), when the
 * tab becomes visible again, and once a minute while it is visible.
 */
export function useUnreadCount(): number | null {
  const user = useSessionUser();
  const { pathname } = useLocation();

  useEffect(() => {
    if (!user) return unreadCount.set(null);
    void unreadCount.refresh({ force: true });
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void unreadCount.refresh({ force: true });
    }, POLL_MS);
    const onVisible = () => {
      if (document.visibilityState === 'visible') void unreadCount.refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [user?.id]);

  useEffect(() => {
    if (user) void unreadCount.refresh();
  }, [pathname]);

  return useSyncExternalStore(unreadCount.subscribe, unreadCount.current);
}
