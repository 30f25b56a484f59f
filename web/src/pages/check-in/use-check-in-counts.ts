import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';

export interface CheckInCounts {
  checkedIn: number;
  total: number;
}

/**
 * The event's check-in count: read once from the manifest (which also proves the caller may
 * scan here), then kept current by the event's live channel (`{type: "checkins"}`), so every
 * door sees the others' check-ins too.
 */
export function useCheckInCounts(eventId: string): {
  counts: CheckInCounts | null;
  error: string | null;
} {
  const [counts, setCounts] = useState<CheckInCounts | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void (async () => {
      const { data, error, response } = await api.GET('/api/v1/events/{id}/check-ins/manifest', {
        params: { path: { id: eventId } },
      });
      if (!live) return;
      if (!data) return setError(problemMessage(error, response));
      setCounts({
        checkedIn: data.tickets.filter((t) => t.status === 'checked_in').length,
        total: data.tickets.filter((t) => t.status !== 'cancelled').length,
      });
    })();
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(
      `${scheme}://${window.location.host}/api/v1/events/${eventId}/live`,
    );
    socket.addEventListener('message', (event: MessageEvent<string>) => {
      const message = JSON.parse(event.data) as { type: string } & Partial<CheckInCounts>;
      if (message.type === 'checkins' && live) {
        setCounts({ checkedIn: message.checkedIn ?? 0, total: message.total ?? 0 });
      }
    });
    return () => {
      live = false;
      socket.close();
    };
  }, [eventId]);

  return { counts, error };
}
