import type { ReadCache } from '../../platform/cache.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import { recordAudit, type AuditContext } from '../audit/index.js';
import { EventCacheKeys } from './event.cache-keys.js';
import type { VenueLookup } from '../venues/index.js';
import type { EventOwnership } from './event-rules.js';
import type { EventRepository } from './event.repository.js';
import type { EventView } from './event.schemas.js';
import { toEventView } from './event.view.js';

/** `POST /events/:id/publish`: a draft that has not started goes on sale. */
export class PublishEvent {
  constructor(
    private readonly deps: {
      events: EventRepository;
      venues: VenueLookup;
      ownership: EventOwnership;
      cache: ReadCache;
    },
  ) {}

  async publish(actor: Principal, id: string, audit: AuditContext): Promise<EventView> {
    const current = await this.deps.ownership.ownedEvent(actor, id);
    if (current.status !== 'draft') {
      throw new AppError(
        'INVALID_STATE',
        `Only a draft can be published; this one is ${current.status}`,
      );
    }
    if (current.starts_at.getTime() <= Date.now()) {
      throw new AppError('INVALID_STATE', 'An event that has already started cannot be published');
    }
    // Read before the publish transaction: the venues module owns the layout.
    const layout =
      current.seating === 'reserved' && current.venue_id
        ? await this.deps.venues.layout(current.venue_id)
        : undefined;
    const row = await this.deps.events.publish(id, layout, (trx, published) =>
      recordAudit(trx, {
        context: audit,
        action: 'event.published',
        target: { type: 'event', id },
        before: { status: current.status },
        after: { status: published.status, capacity: published.capacity },
      }),
    );
    if (!row) throw new AppError('INVALID_STATE', 'The event was published or cancelled meanwhile');
    await this.deps.cache.invalidate(EventCacheKeys.forEvent(id));
    return toEventView(row);
  }
}
