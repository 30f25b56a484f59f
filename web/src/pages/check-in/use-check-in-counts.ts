import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { openEventLive } from '../../live/event-live-socket';

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
    // The shared live socket: it reconnects with back-off if the door's network drops.
    const close = openEventLive(eventId, (message) => {
      if (message.type === 'checkins' && live) {
        setCounts({ checkedIn: message.checkedIn, total: message.total });
      }
    });
    return () => {
      live = false;
      close();
    };
  }, [eventId]);

  return { counts, error };
}
