import type { Updateable } from 'kysely';
import type { ReadCache } from '../../platform/cache.js';
import type { EventsTable } from '../../platform/database/schema.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import { changedFields, recordAudit, type AuditContext } from '../audit/index.js';
import type { VenueLookup } from '../venues/index.js';
import { EventCacheKeys } from './event.cache-keys.js';
import {
  assertSectionsExist,
  assertStartsInFuture,
  assertTimes,
  auditedFields,
  cancelledCannotChange,
  invalid,
  type EventOwnership,
} from './event-rules.js';
import type { EventRepository, EventRow } from './event.repository.js';
import type { EventView, UpdateEventInput } from './event.schemas.js';
import { toEventView } from './event.view.js';

/**
 * `PATCH /events/:id`: changes an event's terms. Capacity may grow, or shrink down to what is
 * held and sold (decided in the update itself, so a concurrent sale cannot slip under it).
 */
export class UpdateEvent {
  constructor(
    private readonly deps: {
      events: EventRepository;
      venues: VenueLookup;
      ownership: EventOwnership;
      cache: ReadCache;
    },
  ) {}

  async update(
    actor: Principal,
    id: string,
    input: UpdateEventInput,
    audit: AuditContext,
  ): Promise<EventView> {
    const current = await this.deps.ownership.ownedEvent(actor, id);
    await this.assertChangeAllowed(current, input);
    const row = await this.deps.events.update(
      id,
      withoutUndefined(changeOf(input)),
      {
        capacity: input.capacity,
        repriceSeats: input.priceCents !== undefined || input.sectionPrices !== undefined,
      },
      // `before` is the event as read just before the change.
      (trx, updated) =>
        recordAudit(trx, {
          context: audit,
          action: 'event.updated',
          target: { type: 'event', id },
          ...changedFields(auditedFields(current), auditedFields(updated)),
        }),
    );
    if (!row) throw await this.whyNotUpdated(id);
    await this.deps.cache.invalidate(EventCacheKeys.forEvent(id));
    return toEventView(row);
  }

  private async assertChangeAllowed(current: EventRow, input: UpdateEventInput): Promise<void> {
    if (current.status === 'cancelled') throw cancelledCannotChange();
    if (input.capacity !== undefined && current.seating === 'reserved') {
      throw invalid('capacity', "reserved seating takes the venue's seat count");
    }
    if (input.sectionPrices !== undefined) {
      if (current.seating !== 'reserved' || !current.venue_id) {
        throw invalid('sectionPrices', 'only apply to reserved seating');
      }
      assertSectionsExist(
        input.sectionPrices,
        (await this.deps.venues.layout(current.venue_id)).map((section) => section.name),
      );
    }
    if (input.startsAt !== undefined) assertStartsInFuture(input.startsAt);
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    assertTimes({
      startsAt: input.startsAt ?? current.starts_at.toISOString(),
      endsAt: input.endsAt ?? current.ends_at.toISOString(),
      salesStartAt:
        input.salesStartAt !== undefined ? input.salesStartAt : iso(current.sales_start_at),
      salesEndAt: input.salesEndAt !== undefined ? input.salesEndAt : iso(current.sales_end_at),
    });
  }

  /** The update changed nothing: cancelled meanwhile, or capacity below what is taken. */
  private async whyNotUpdated(id: string): Promise<AppError> {
    const now = await this.deps.events.findById(id);
    if (now?.status === 'cancelled') return cancelledCannotChange();
    return new AppError(
      'CAPACITY_CONFLICT',
      `Capacity cannot drop below the ${(now?.held ?? 0) + (now?.sold ?? 0)} tickets held or sold`,
    );
  }
}

function changeOf(input: UpdateEventInput): Updateable<EventsTable> {
  return {
    name: input.name,
    description: input.description,
    starts_at: input.startsAt,
    ends_at: input.endsAt,
    price_cents: input.priceCents,
    currency: input.currency,
    section_prices: input.sectionPrices && JSON.stringify(input.sectionPrices),
    max_tickets_per_user: input.maxTicketsPerUser,
    sales_start_at: input.salesStartAt,
    sales_end_at: input.salesEndAt,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
