import { batchedConsumer } from '../../platform/messaging/batched-consumer.js';
import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
import type { AnalyticsRepository } from './analytics.repository.js';

export const ANALYTICS_CONSUMER = 'analytics';

/**
 * Keeps the analytics roll-ups: each booking confirmation and cancellation is added exactly
 * once (the processed-messages rows commit with the counters, in the same statement, one
 * statement per batch of messages). Amounts
 * and times come from the booking row, the record, not from the message.
 */
export function analyticsConsumer(deps: {
  analytics: AnalyticsRepository;
  maxBatch: number;
}): ConsumerSpec {
  return batchedConsumer(
    {
      name: ANALYTICS_CONSUMER,
      bindings: ['booking.confirmed', 'booking.cancelled'],
      async handleBatch(messages) {
        const items = messages.flatMap((message) => {
          const bookingId = message.payload.bookingId;
          if (typeof bookingId !== 'string') return [];
          const kind: 'confirmed' | 'cancelled' =
            message.type === 'booking.cancelled' ? 'cancelled' : 'confirmed';
          return [{ messageId: message.messageId, bookingId, kind, shard: shardOf(bookingId) }];
        });
        await deps.analytics.addBookingsOnce(ANALYTICS_CONSUMER, items);
      },
    },
    { maxBatch: deps.maxBatch },
  );
}

/** 0–7 from the booking id's random bits, so one hour's bookings spread over 8 rows. */
export const shardOf = (bookingId: string) => Number.parseInt(bookingId.slice(-2), 16) % 8;
