import type { Updateable } from 'kysely';
import type { EventsTable, EventStatus } from '../../platform/database/schema.js';
import type { ReadCache } from '../../platform/cache.js';
import { AppError, forbidden, notFound, type FieldError } from '../../platform/errors.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import { type AuditContext, changedFields, recordAudit } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import type { VenueLookup } from '../venues/index.js';
import { EventCacheKeys } from './event.cache-keys.js';
import type { EventRepository, EventRow } from './event.repository.js';
import type {
  CreateEventInput,
  EventListFilters,
  EventView,
  UpdateEventInput,
} from './event.schemas.js';
import { toEventView, toSeatMap } from './event.view.js';

const PUBLIC_STATUSES: EventStatus[] = ['published', 'cancelled'];

/** Answers that are already serialized JSON, straight from the cache when possible. */
export type JsonText = string;

export class EventService {
  constructor(
    private readonly events: EventRepository,
    private readonly venues: VenueLookup,
    private readonly cache: ReadCache,
    /** Refunds and releases what the event had sold and held (the booking module). */
    private readonly onCancelled: (
      eventId: string,
      audit: AuditContext,
    ) => Promise<void> = async () => undefined,
  ) {}

  async create(actor: Principal, input: CreateEventInput, audit: AuditContext): Promise<EventView> {
    const startsAt = new Date(input.startsAt);
    if (startsAt.getTime() <= Date.now()) {
      throw invalid('startsAt', 'must be in the future');
    }
    let capacity: number;
    let city: string | null = null;
    if (input.venueId) {
      const venue = await this.venues.findById(input.venueId);
      if (!venue) throw invalid('venueId', 'no such venue');
      city = venue.city;
      capacity = input.seating === 'reserved' ? venue.capacity : (input.capacity ?? 0);
    } else {
      capacity = input.capacity ?? 0;
    }
    if (input.seating === 'reserved') {
      if (!input.venueId) throw invalid('venueId', 'is required for reserved seating');
      if (input.capacity !== undefined) {
        throw invalid('capacity', "reserved seating takes the venue's seat count");
      }
      await this.assertSectionsExist(input.venueId, input.sectionPrices);
    } else {
      if (input.capacity === undefined)
        throw invalid('capacity', 'is required for general admission');
      if (input.sectionPrices && Object.keys(input.sectionPrices).length > 0) {
        throw invalid('sectionPrices', 'only apply to reserved seating');
      }
    }
    assertTimes({
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      salesStartAt: input.salesStartAt ?? null,
      salesEndAt: input.salesEndAt ?? null,
    });
    const row = await this.events.insert(
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

  async update(
    actor: Principal,
    id: string,
    input: UpdateEventInput,
    audit: AuditContext,
  ): Promise<EventView> {
    const current = await this.ownedEvent(actor, id);
    if (current.status === 'cancelled') {
      throw new AppError('INVALID_STATE', 'A cancelled event cannot be changed');
    }
    if (input.capacity !== undefined && current.seating === 'reserved') {
      throw invalid('capacity', "reserved seating takes the venue's seat count");
    }
    if (input.sectionPrices !== undefined) {
      if (current.seating !== 'reserved' || !current.venue_id) {
        throw invalid('sectionPrices', 'only apply to reserved seating');
      }
      await this.assertSectionsExist(current.venue_id, input.sectionPrices);
    }
    if (input.startsAt !== undefined && new Date(input.startsAt).getTime() <= Date.now()) {
      throw invalid('startsAt', 'must be in the future');
    }
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    assertTimes({
      startsAt: input.startsAt ?? current.starts_at.toISOString(),
      endsAt: input.endsAt ?? current.ends_at.toISOString(),
      salesStartAt:
        input.salesStartAt !== undefined ? input.salesStartAt : iso(current.sales_start_at),
      salesEndAt: input.salesEndAt !== undefined ? input.salesEndAt : iso(current.sales_end_at),
    });
    const change: Updateable<EventsTable> = {
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
    const row = await this.events.update(
      id,
      withoutUndefined(change),
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
    if (!row) {
      const now = await this.events.findById(id);
      if (now?.status === 'cancelled') {
        throw new AppError('INVALID_STATE', 'A cancelled event cannot be changed');
      }
      throw new AppError(
        'CAPACITY_CONFLICT',
        `Capacity cannot drop below the ${(now?.held ?? 0) + (now?.sold ?? 0)} tickets held or sold`,
      );
    }
    await this.cache.invalidate(EventCacheKeys.forEvent(id));
    return toEventView(row);
  }

  async publish(actor: Principal, id: string, audit: AuditContext): Promise<EventView> {
    const current = await this.ownedEvent(actor, id);
    if (current.status !== 'draft') {
      throw new AppError(
        'INVALID_STATE',
        `Only a draft can be published; this one is ${current.status}`,
      );
    }
    if (current.starts_at.getTime() <= Date.now()) {
      throw new AppError('INVALID_STATE', 'An event that has already started cannot be published');
    }
    const row = await this.events.publish(id, (trx, published) =>
      recordAudit(trx, {
        context: audit,
        action: 'event.published',
        target: { type: 'event', id },
        before: { status: current.status },
        after: { status: published.status, capacity: published.capacity },
      }),
    );
    if (!row) throw new AppError('INVALID_STATE', 'The event was published or cancelled meanwhile');
    await this.cache.invalidate(EventCacheKeys.forEvent(id));
    return toEventView(row);
  }

  /** Cancelling twice is harmless: the second call returns the cancelled event. */
  async cancel(actor: Principal, id: string, audit: AuditContext): Promise<EventView> {
    const current = await this.ownedEvent(actor, id);
    if (current.status === 'cancelled') return toEventView(current);
    const cancelled = await this.events.cancel(id, (trx, row) =>
      recordAudit(trx, {
        context: audit,
        action: 'event.cancelled',
        target: { type: 'event', id },
        before: { status: current.status },
        after: { status: row.status, sold: row.sold, held: row.held },
      }),
    );
    const row = cancelled ?? (await this.events.findById(id));
    if (!row) throw notFound('Event');
    await this.onCancelled(id, audit);
    await this.cache.invalidate(EventCacheKeys.forEvent(id));
    return toEventView(row);
  }

  /** The event as JSON text; drafts are visible to their organizer and admins only. */
  async getJson(viewer: Principal | undefined, id: string): Promise<JsonText> {
    const json = await this.cache.getOrLoad(EventCacheKeys.detail(id), async () => {
      const row = await this.events.findById(id);
      return JSON.stringify(row ? toEventView(row) : null);
    });
    const event = JSON.parse(json) as EventView | null;
    if (!event || !canSee(viewer, event)) throw notFound('Event');
    return json;
  }

  async seatMapJson(viewer: Principal | undefined, id: string): Promise<JsonText> {
    const event = JSON.parse(await this.getJson(viewer, id)) as EventView;
    return this.cache.getOrLoad(EventCacheKeys.seats(id), async () => {
      const row = await this.events.findById(id);
      if (!row) throw notFound('Event');
      const seats = row.seating === 'reserved' ? await this.events.seats(event.id) : [];
      return JSON.stringify(toSeatMap(row, seats));
    });
  }

  /**
   * Public listings (published, cancelled) are cached; drafts are listed only to their
   * organizer (all drafts to admins) and never cached.
   */
  async listJson(viewer: Principal | undefined, filters: EventListFilters): Promise<JsonText> {
    const status = filters.status ?? 'published';
    if (status === 'draft') {
      if (!viewer) throw new AppError('UNAUTHENTICATED', 'Listing drafts needs a bearer token');
      if (viewer.role !== 'organizer' && viewer.role !== 'admin') {
        throw forbidden('Only organizers and admins can list drafts');
      }
      return JSON.stringify(
        await this.list(filters, ['draft'], viewer.role === 'admin' ? undefined : viewer.userId),
      );
    }
    if (!PUBLIC_STATUSES.includes(status)) throw notFound('Event');
    return this.cache.getOrLoad(EventCacheKeys.list(filters), async () =>
      JSON.stringify(await this.list(filters, [status])),
    );
  }

  private async list(filters: EventListFilters, statuses: EventStatus[], organizerId?: string) {
    const after = decodeCursor(filters.cursor, ['startsAt', 'id'] as const);
    const page = await this.events.list({
      limit: filters.limit,
      statuses,
      organizerId,
      q: filters.q,
      city: filters.city,
      from: filters.from ? new Date(filters.from) : undefined,
      to: filters.to ? new Date(filters.to) : undefined,
      after: after && { startsAt: cursorDate(after.startsAt), id: after.id },
    });
    return toPage(page, toEventView, (row) => ({
      startsAt: row.starts_at.toISOString(),
      id: row.id,
    }));
  }

  /** The event if the actor may change it: its organizer or an admin. */
  async ownedEvent(actor: Principal, id: string): Promise<EventRow> {
    const row = await this.events.findById(id);
    if (!row) throw notFound('Event');
    if (actor.role === 'admin' || row.organizer_id === actor.userId) return row;
    // Someone else's draft is not even acknowledged to exist.
    if (row.status === 'draft') throw notFound('Event');
    throw forbidden('Only the organizer of this event or an admin can change it');
  }

  private async assertSectionsExist(
    venueId: string,
    sectionPrices: Record<string, number> | undefined,
  ): Promise<void> {
    if (!sectionPrices) return;
    const names = new Set(await this.events.venueSectionNames(venueId));
    const unknown = Object.keys(sectionPrices).filter((name) => !names.has(name));
    if (unknown.length > 0) {
      throw new AppError('VALIDATION_FAILED', `Unknown sections: ${unknown.join(', ')}`, {
        errors: unknown.map((name) => ({
          field: `sectionPrices.${name}`,
          message: 'is not a section of the venue',
        })),
      });
    }
  }
}

/** What the audit log keeps of an event: its terms, not its moving counters or timestamps. */
function auditedFields(row: EventRow): Record<string, unknown> {
  const {
    id: _id,
    available: _available,
    held: _held,
    sold: _sold,
    createdAt: _createdAt,
    updatedAt: _updatedAt,
    publishedAt: _publishedAt,
    cancelledAt: _cancelledAt,
    ...terms
  } = toEventView(row);
  return terms;
}

function canSee(viewer: Principal | undefined, event: EventView): boolean {
  if (event.status !== 'draft') return true;
  return viewer !== undefined && (viewer.role === 'admin' || viewer.userId === event.organizerId);
}

function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${field} ${message}`, { errors: [{ field, message }] });
}

function assertTimes(times: {
  startsAt: string;
  endsAt: string;
  salesStartAt: string | null;
  salesEndAt: string | null;
}): void {
  const errors: FieldError[] = [];
  const ms = (t: string) => new Date(t).getTime();
  if (ms(times.endsAt) <= ms(times.startsAt)) {
    errors.push({ field: 'endsAt', message: 'must be after startsAt' });
  }
  if (times.salesStartAt && times.salesEndAt && ms(times.salesEndAt) <= ms(times.salesStartAt)) {
    errors.push({ field: 'salesEndAt', message: 'must be after salesStartAt' });
  }
  if (times.salesEndAt && ms(times.salesEndAt) > ms(times.endsAt)) {
    errors.push({ field: 'salesEndAt', message: 'must not be after endsAt' });
  }
  if (errors.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      errors.map((e) => `${e.field} ${e.message}`).join('; '),
      {
        errors,
      },
    );
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
