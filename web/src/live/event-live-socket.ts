/** The counts an event's live channel carries, in its snapshot and in each availability message. */
export interface Availability {
  available: number;
  held: number;
  sold: number;
}

export type SeatStatus = 'available' | 'held' | 'sold';

/** What WS /api/v1/events/:id/live sends (src/modules/realtime/live.routes.ts and live-hub.ts). */
export type LiveMessage =
  | ({
      type: 'snapshot';
      eventId: string;
      seats: Array<{ seatId: string; status: SeatStatus }>;
    } & Availability)
  | { type: 'seats'; changes: Array<{ seatId: string; status: SeatStatus }> }
  | ({ type: 'availability' } & Availability)
  | { type: 'checkins'; checkedIn: number; total: number }
  | { type: 'error'; code: string };

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

const MAX_BACKOFF_MS = 30_000;
/** Closed by the server with a reason it will give again (unknown event, a draft): no retry. */
const POLICY_VIOLATION = 1008;

/**
 * Keeps one WebSocket to an event's live channel open: every message goes to `onMessage`;
 * a dropped connection is reopened with a growing back-off, and the snapshot the server sends
 * on each new connection brings the caller up to date. Returns the function that closes it.
 */
export function openEventLive(
  eventId: string,
  onMessage: (message: LiveMessage) => void,
  onState: (state: LiveState) => void = () => undefined,
): () => void {
  let socket: WebSocket | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let attempts = 0;
  let stopped = false;

  const connect = () => {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(
      `${scheme}://${window.location.host}/api/v1/events/${encodeURIComponent(eventId)}/live`,
    );
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as LiveMessage;
      if (message.type === 'snapshot') {
        attempts = 0;
        onState('live');
      }
      onMessage(message);
    };
    socket.onclose = (event) => {
      if (stopped) return;
      if (event.code === POLICY_VIOLATION) return onState('closed');
      onState('reconnecting');
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts++);
      retry = setTimeout(connect, delay);
    };
  };

  onState('connecting');
  connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    socket?.close(1000);
  };
}
