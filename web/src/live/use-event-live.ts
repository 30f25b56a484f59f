import { useEffect, useRef, useState } from 'react';
import {
  openEventLive,
  type Availability,
  type LiveMessage,
  type LiveState,
  type SeatStatus,
} from './event-live-socket';

export type { Availability, LiveState, SeatStatus };
export interface SeatChange {
  seatId: string;
  status: SeatStatus;
}

/**
 * Messages that arrive within this window are applied together: in a flash sale hundreds of
 * seats change a second, and one render per window keeps a 20,000-seat map responsive.
 */
const BATCH_MS = 50;

/**
 * The event's live feed for the buyer's page (the socket itself, its back-off and its closing
 * are openEventLive's): seat changes go to `onSeats` (`snapshot` true: every seat's status, on
 * each (re)connection), batched; the counts come back as state. Leaving the page closes it.
 */
export function useEventLive(
  eventId: string,
  onSeats: (changes: SeatChange[], snapshot: boolean) => void,
): { availability: Availability | null; connection: LiveState } {
  const [availability, setAvailability] = useState<Availability | null>(null);
  const [connection, setConnection] = useState<LiveState>('connecting');
  const onSeatsRef = useRef(onSeats);
  onSeatsRef.current = onSeats;

  useEffect(() => {
    let batchTimer: ReturnType<typeof setTimeout> | undefined;
    let queued: SeatChange[] = [];
    let counts: Availability | null = null;

    const flush = () => {
      batchTimer = undefined;
      if (queued.length > 0) onSeatsRef.current(queued, false);
      queued = [];
      if (counts) setAvailability(counts);
    };
    const receive = (message: LiveMessage) => {
      switch (message.type) {
        case 'snapshot':
          // Everything queued is older than the snapshot: it replaces it.
          clearTimeout(batchTimer);
          batchTimer = undefined;
          queued = [];
          counts = pickCounts(message);
          onSeatsRef.current(message.seats, true);
          setAvailability(counts);
          return;
        case 'seats':
          queued.push(...message.changes);
          break;
        case 'availability':
          counts = pickCounts(message);
          break;
        case 'error':
          // The server closes with 1008 right after; openEventLive reports "closed".
          return;
      }
      batchTimer ??= setTimeout(flush, BATCH_MS);
    };

    setAvailability(null);
    const close = openEventLive(eventId, receive, setConnection);
    return () => {
      clearTimeout(batchTimer);
      close();
    };
  }, [eventId]);

  return { availability, connection };
}

function pickCounts({ available, held, sold }: Availability): Availability {
  return { available, held, sold };
}
