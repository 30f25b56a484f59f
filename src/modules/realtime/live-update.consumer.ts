import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
import type { EventLookup } from '../events/index.js';
import { TICKET_CHECKED_IN, type CheckInCounts } from '../tickets/index.js';
import { CoalescedReads } from './coalesced-reads.js';
import type { LiveHub, LiveUpdate } from './live-hub.js';

export const LIVE_UPDATES_CONSUMER = 'live-updates';

const STATUS_BY_TYPE: Record<string, LiveUpdate['changes'][number]['status']> = {
  'seats.held': 'held',
  'seats.released': 'available',
  'booking.confirmed': 'sold',
  'booking.cancelled': 'available',
};

/**
 * Seat, availability and check-in changes → every instance's WebSocket clients. Redelivered
 * duplicates need no guard: an update carries the current state, so sending it twice is
 * harmless.
 */
export function liveUpdateConsumer(deps: {
  events: EventLookup;
  checkIns: CheckInCounts;
  hub: LiveHub;
}): ConsumerSpec {
  // The counts from the events module, which owns them (read from the primary: a replica
  // could answer with the counts from before this message's commit).
  const counts = new CoalescedReads(async (eventId) => {
    const event = await deps.events.findById(eventId);
    return event && { available: event.available, held: event.held, sold: event.sold };
  });
  // A door rush sends many check-ins of one event at once: they share one count.
  const checkIns = new CoalescedReads((eventId) => deps.checkIns.countsOf(eventId));
  return {
    name: LIVE_UPDATES_CONSUMER,
    bindings: [...Object.keys(STATUS_BY_TYPE), TICKET_CHECKED_IN],
    async handle(message) {
      const eventId = message.payload.eventId;
      if (typeof eventId !== 'string') return;
      if (message.type === TICKET_CHECKED_IN) {
        const checkins = await checkIns.read(eventId);
        await deps.hub.publish({ eventId, changes: [], availability: null, checkins });
        return;
      }
      const seatIds = Array.isArray(message.payload.seatIds)
        ? (message.payload.seatIds as string[])
        : [];
      const status = STATUS_BY_TYPE[message.type]!;
      // Read after this message's commit (it is delivered after it), shared with the
      // messages of the same event that arrive meanwhile.
      const availability = await counts.read(eventId);
      await deps.hub.publish({
        eventId,
        changes: seatIds.map((seatId) => ({ seatId, status })),
        availability: availability ?? null,
      });
    },
  };
}
