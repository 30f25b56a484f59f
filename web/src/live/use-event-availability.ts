import { useEffect, useState } from 'react';
import { openEventLive, type Availability, type LiveState } from './event-live-socket';

/**
 * An event's sold/held/available counts as the live channel reports them: the snapshot on
 * (re)connection, then every availability message. `enabled: false` (a draft, which the
 * channel refuses) opens nothing. `counts` stays null until the first snapshot.
 */
export function useEventAvailability(
  eventId: string,
  enabled = true,
): { counts: Availability | null; state: LiveState } {
  const [counts, setCounts] = useState<Availability | null>(null);
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    setCounts(null);
    if (!enabled) {
      setState('closed');
      return;
    }
    return openEventLive(
      eventId,
      (message) => {
        if (message.type === 'snapshot' || message.type === 'availability') {
          const { available, held, sold } = message;
          setCounts({ available, held, sold });
        }
      },
      setState,
    );
  }, [eventId, enabled]);
  return { counts, state };
}
