import type { ReadCache } from '../../platform/cache.js';
import { notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import { recordAudit, type AuditContext } from '../audit/index.js';
import { EventCacheKeys } from './event.cache-keys.js';
import type { EventOwnership } from './event-rules.js';
import type { EventRepository } from './event.repository.js';
import type { EventView } from './event.schemas.js';
import { toEventView } from './event.view.js';

/** Refunds and releases what a cancelled event had sold and held (the bookings module does). */
export type OnEventCancelled = (eventId: string, audit: AuditContext) => Promise<void>;

/**
 * `POST /events/:id/cancel`: the event stops selling, its holds are released and its bookings
 * refunded. Cancelling twice is harmless: the second call returns the cancelled event.
 */
export class CancelEvent {
  constructor(
    private readonly deps: {
      events: EventRepository;
      ownership: EventOwnership;
      cache: ReadCache;
      onCancelled: OnEventCancelled;
    },
  ) {}

  async cancel(actor: Principal, id: string, audit: AuditContext): Promise<EventView> {
    const { deps } = this;
    const current = await deps.ownership.ownedEvent(actor, id);
    if (current.status === 'cancelled') return toEventView(current);
    const cancelled = await deps.events.cancel(id, (trx, row) =>
      recordAudit(trx, {
        context: audit,
        action: 'event.cancelled',
        target: { type: 'event', id },
        before: { status: current.status },
        after: { status: row.status, sold: row.sold, held: row.held },
      }),
    );
    const row = cancelled ?? (await deps.events.findById(id));
    if (!row) throw notFound('Event');
    await deps.onCancelled(id, audit);
    await deps.cache.invalidate(EventCacheKeys.forEvent(id));
    return toEventView(row);
  }
}
