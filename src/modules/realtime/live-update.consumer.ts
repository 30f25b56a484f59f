import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
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
 * Seat and availability changes → every instance's WebSocket clients. Redelivered duplicates
 * need no guard: an update carries the current state, so sending it twice is harmless.
 */
export function liveUpdateConsumer(deps: { db: Kysely<DB>; hub: LiveHub }): ConsumerSpec {
  const counts = new CoalescedReads((eventId) =>
    deps.db
      .selectFrom('events_with_inventory')
      .select(['available', 'held', 'sold'])
      .where('id', '=', eventId)
      .executeTakeFirst(),
  );
  return {
    name: LIVE_UPDATES_CONSUMER,
    bindings: Object.keys(STATUS_BY_TYPE),
    async handle(message) {
      const eventId = message.payload.eventId;
      if (typeof eventId !== 'string') return;
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
