import { useEffect, useRef, useState } from 'react';
import { reconnectDelay } from './reconnect-delay';

export type SeatStatus = 'available' | 'held' | 'sold';
export interface SeatChange {
  seatId: string;
  status: SeatStatus;
}
export interface Availability {
  available: number;
  held: number;
  sold: number;
}
/** `live` once the snapshot is in; `reconnecting` while a dropped socket waits to reopen. */
export type LiveConnection = 'connecting' | 'live' | 'reconnecting' | 'unavailable';

/** What WS /api/v1/events/:id/live sends (src/modules/realtime/live.routes.ts, live-hub.ts). */
type LiveMessage =
  | ({ type: 'snapshot'; seats: SeatChange[] } & Availability)
  | { type: 'seats'; changes: SeatChange[] }
  | ({ type: 'availability' } & Availability)
  | { type: 'error'; code: string };

/**
 * Messages that arrive within this window are applied together: in a flash sale hundreds of
 * seats change a second, and one render per window keeps a 20,000-seat map responsive.
 */
const BATCH_MS = 50;
/** The server closes with 1008 (policy) for an id it refuses: reconnecting cannot help. */
const POLICY_CLOSE = 1008;

/**
 * The event's live feed: a snapshot on connect, then seat and availability changes. Seat changes
 * go to `onSeats` (`snapshot` true: the full list of every seat's status); the counts come back
 * as state. A dropped socket reopens with growing back-off (its snapshot then catches up on
 * what was missed); leaving the page closes it.
 */
export function useEventLive(
  eventId: string,
  onSeats: (changes: SeatChange[], snapshot: boolean) => void,
): { availability: Availability | null; connection: LiveConnection } {
  const [availability, setAvailability] = useState<Availability | null>(null);
  const [connection, setConnection] = useState<LiveConnection>('connecting');
  const onSeatsRef = useRef(onSeats);
  onSeatsRef.current = onSeats;

  useEffect(() => {
    let socket: WebSocket | null = null;
    let disposed = false;
    let attempt = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let batchTimer: ReturnType<typeof setTimeout> | undefined;
    let queued: SeatChange[] = [];
    let counts: Availability | null = null;

    const flush = () => {
      batchTimer = undefined;
      if (queued.length > 0) onSeatsRef.current(queued, false);
      queued = [];
      if (counts) setAvailability(counts);
    };
    const schedule = () => {
      batchTimer ??= setTimeout(flush, BATCH_MS);
    };

    const receive = (message: LiveMessage) => {
      switch (message.type) {
        case 'snapshot':
          // Everything queued is older than the snapshot: it replaces it.
          clearTimeout(batchTimer);
          batchTimer = undefined;
          queued = [];
          attempt = 0;
          counts = pickCounts(message);
          onSeatsRef.current(message.seats, true);
          setAvailability(counts);
          setConnection('live');
          return;
        case 'seats':
          queued.push(...message.changes);
          return schedule();
        case 'availability':
          counts = pickCounts(message);
          return schedule();
        case 'error':
          return setConnection('unavailable');
      }
    };

    const open = () => {
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      const url = `${scheme}://${window.location.host}/api/v1/events/${encodeURIComponent(eventId)}/live`;
      const ws = new WebSocket(url);
      socket = ws;
      ws.onmessage = (e) => {
        if (typeof e.data === 'string') receive(JSON.parse(e.data) as LiveMessage);
      };
      ws.onclose = (e) => {
        if (disposed || socket !== ws) return;
        socket = null;
        if (e.code === POLICY_CLOSE) return setConnection('unavailable');
        setConnection('reconnecting');
        retryTimer = setTimeout(open, reconnectDelay(attempt++));
      };
    };

    setConnection('connecting');
    setAvailability(null);
    open();
    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      clearTimeout(batchTimer);
      socket?.close(1000, 'page left');
    };
  }, [eventId]);

  return { availability, connection };
}

function pickCounts({ available, held, sold }: Availability): Availability {
  return { available, held, sold };
}
