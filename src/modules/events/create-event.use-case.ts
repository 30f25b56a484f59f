import type { AuditContext } from '../audit/index.js';
import { recordAudit } from '../audit/index.js';
import type { Principal } from '../../platform/principal.js';
import type { VenueLookup } from '../venues/index.js';
import {
  assertSectionsExist,
  assertStartsInFuture,
  assertTimes,
  auditedFields,
  invalid,
} from './event-rules.js';
import type { EventRepository } from './event.repository.js';
import type { CreateEventInput, EventView } from './event.schemas.js';
import { toEventView } from './event.view.js';

/**
 * `POST /events`: a draft. Reserved seating takes the venue's seats (and may price its
 * sections); general admission takes a capacity.
 */
export class CreateEvent {
  constructor(private readonly deps: { events: EventRepository; venues: VenueLookup }) {}

  async create(actor: Principal, input: CreateEventInput, audit: AuditContext): Promise<EventView> {
    assertStartsInFuture(input.startsAt);
    const { capacity, city } = await this.seatingOf(input);
    assertTimes({
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      salesStartAt: input.salesStartAt ?? null,
      salesEndAt: input.salesEndAt ?? null,
    });
    const row = await this.deps.events.insert(
      {
        organizer_id: actor.userId,
        venue_id: input.venueId ?? null,
        name: input.name,
        description: input.description,
        city,
        starts_at: input.startsAt,
        ends_at: input.endsAt,
        seating: input.seating,
        price_cents: input.priceCents,
        currency: input.currency,
        section_prices: JSON.stringify(input.sectionPrices ?? {}),
        max_tickets_per_user: input.maxTicketsPerUser,
        sales_start_at: input.salesStartAt ?? null,
        sales_end_at: input.salesEndAt ?? null,
        capacity,
      },
      (trx, created) =>
        recordAudit(trx, {
          context: audit,
          action: 'event.created',
          target: { type: 'event', id: created.id },
          after: auditedFields(created),
        }),
    );
    // A draft appears in no cached (public) listing, so nothing is invalidated here.
    return toEventView(row);
  }

  /** The capacity and city the seating gives, after checking the seating's own rules. */
  private async seatingOf(
    input: CreateEventInput,
  ): Promise<{ capacity: number; city: string | null }> {
    let city: string | null = null;
    let capacity = input.capacity ?? 0;
    if (input.venueId) {
      const venue = await this.deps.venues.findById(input.venueId);
      if (!venue) throw invalid('venueId', 'no such venue');
      city = venue.city;
      if (input.seating === 'reserved') capacity = venue.capacity;
    }
    if (input.seating === 'reserved') {
      if (!input.venueId) throw invalid('venueId', 'is required for reserved seating');
      if (input.capacity !== undefined) {
        throw invalid('capacity', "reserved seating takes the venue's seat count");
      }
      if (input.sectionPrices) {
        assertSectionsExist(
          input.sectionPrices,
          (await this.deps.venues.layout(input.venueId)).map((section) => section.name),
        );
      }
    } else {
      if (input.capacity === undefined)
        throw invalid('capacity', 'is required for general admission');
      if (input.sectionPrices && Object.keys(input.sectionPrices).length > 0) {
        throw invalid('sectionPrices', 'only apply to reserved seating');
      }
    }
    return { capacity, city };
  }
}
