import type { ReadCache } from '../../platform/cache.js';
import type { EventStatus } from '../../platform/database/schema.js';
import { AppError, forbidden, notFound } from '../../platform/errors.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import type { Principal } from '../../platform/principal.js';
import { EventCacheKeys } from './event.cache-keys.js';
import { canSee } from './event-rules.js';
import type { EventRepository } from './event.repository.js';
import type { EventListFilters, EventView } from './event.schemas.js';
import { toEventView, toSeatMap } from './event.view.js';

const PUBLIC_STATUSES: EventStatus[] = ['published', 'cancelled'];
const ALL_STATUSES: EventStatus[] = ['draft', ...PUBLIC_STATUSES];

/** Answers that are already serialized JSON, straight from the cache when possible. */
export type JsonText = string;

/** The catalog reads: one event, its seat map, lists. Public answers are cached as JSON. */
export class EventQueries {
  constructor(private readonly deps: { events: EventRepository; cache: ReadCache }) {}

  /** The event as JSON text; drafts are visible to their organizer and admins only. */
  async getJson(viewer: Principal | undefined, id: string): Promise<JsonText> {
    const { events, cache } = this.deps;
    const json = await cache.getOrLoad(EventCacheKeys.detail(id), async () => {
      const row = await events.findById(id);
      return JSON.stringify(row ? toEventView(row) : null);
    });
    const event = JSON.parse(json) as EventView | null;
    if (!event || !canSee(viewer, event)) throw notFound('Event');
    return json;
  }

  async seatMapJson(viewer: Principal | undefined, id: string): Promise<JsonText> {
    const { events, cache } = this.deps;
    const event = JSON.parse(await this.getJson(viewer, id)) as EventView;
    return cache.getOrLoad(EventCacheKeys.seats(id), async () => {
      const row = await events.findById(id);
      if (!row) throw notFound('Event');
      const seats = row.seating === 'reserved' ? await events.seats(event.id) : [];
      return JSON.stringify(toSeatMap(row, seats));
    });
  }

  /**
   * Public listings (published, cancelled) are cached; drafts are listed only to their
   * organizer (all drafts to admins) and never cached. `organizer=me` lists the caller's own
   * events of every status (or the one asked for), uncached: an organizer's own overview.
   */
  async listJson(viewer: Principal | undefined, filters: EventListFilters): Promise<JsonText> {
    if (filters.organizer === 'me') {
      const organizer = assertOrganizer(viewer, 'Listing your own events');
      const statuses = filters.status ? [filters.status] : ALL_STATUSES;
      return JSON.stringify(await this.list(filters, statuses, organizer.userId));
    }
    const status = filters.status ?? 'published';
    if (status === 'draft') {
      const organizer = assertOrganizer(viewer, 'Listing drafts');
      return JSON.stringify(
        await this.list(
          filters,
          ['draft'],
          organizer.role === 'admin' ? undefined : organizer.userId,
        ),
      );
    }
    if (!PUBLIC_STATUSES.includes(status)) throw notFound('Event');
    return this.deps.cache.getOrLoad(EventCacheKeys.list(filters), async () =>
      JSON.stringify(await this.list(filters, [status])),
    );
  }

  private async list(filters: EventListFilters, statuses: EventStatus[], organizerId?: string) {
    const after = decodeCursor(filters.cursor, ['startsAt', 'id'] as const);
    const page = await this.deps.events.list({
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
}

/** The viewer, if it is an organizer or an admin: 401 without a token, 403 for anyone else. */
function assertOrganizer(viewer: Principal | undefined, what: string): Principal {
  if (!viewer) throw new AppError('UNAUTHENTICATED', `${what} needs a bearer token`);
  if (viewer.role !== 'organizer' && viewer.role !== 'admin') {
    throw forbidden(`${what} is for organizers and admins only`);
  }
  return viewer;
}
