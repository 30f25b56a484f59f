import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import { changeWith, type AlsoInTransaction } from '../../infra/postgres/also-in-transaction.js';
import type {
  DB,
  EventsTable,
  EventsWithInventoryView,
  EventStatus,
  SeatStatus,
} from '../../platform/database/schema.js';
import { escapeLike } from '../../platform/like-pattern.js';
import type { VenueLayoutView } from '../venues/index.js';

/** An event with its inventory (available, held, sold) as the view events_with_inventory sums it. */
export type EventRow = Selectable<EventsWithInventoryView>;

/** A capacity the tickets already held or sold do not fit in: the change is rolled back. */
class CapacityConflict extends Error {}

export interface EventListOptions {
  limit: number;
  statuses: EventStatus[];
  organizerId?: string;
  q?: string;
  city?: string;
  from?: Date;
  to?: Date;
  after?: { startsAt: Date; id: string };
}

export interface SeatRow {
  id: string;
  section: string;
  row_label: string;
  number: number;
  status: SeatStatus;
  price_cents: number;
}

/** What other modules may ask of the events table: one event with its live counts. */
export interface EventLookup {
  findById(id: string): Promise<EventRow | undefined>;
}

export class EventRepository implements EventLookup {
  /**
   * @param readDb where listings and seat maps are read: a replica when one is configured
   *   (they may lag it a little); everything else, and whatever decides a booking, reads `db`.
   */
  constructor(
    private readonly db: Kysely<DB>,
    private readonly readDb: Kysely<DB> = db,
  ) {}

  async insert(
    event: Insertable<EventsTable>,
    also?: AlsoInTransaction<EventRow>,
  ): Promise<EventRow> {
    // A general-admission event's stock buckets are made with its row (migration 013).
    const row = await changeWith(this.db, also, async (executor) => {
      const { id } = await executor
        .insertInto('events')
        .values(event)
        .returning('id')
        .executeTakeFirstOrThrow();
      return this.findById(id, executor);
    });
    return row!;
  }

  findById(id: string, executor: Kysely<DB> = this.db): Promise<EventRow | undefined> {
    return executor
      .selectFrom('events_with_inventory')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async list(options: EventListOptions): Promise<{ rows: EventRow[]; hasMore: boolean }> {
    let query = this.readDb
      .selectFrom('events_with_inventory')
      .selectAll()
      .where('status', 'in', options.statuses);
    if (options.organizerId) query = query.where('organizer_id', '=', options.organizerId);
    if (options.q) {
      const pattern = `%${escapeLike(options.q)}%`;
      query = query.where((eb) =>
        eb.or([eb('name', 'ilike', pattern), eb('description', 'ilike', pattern)]),
      );
    }
    if (options.city) {
      const city = options.city.toLowerCase();
      query = query.where((eb) => eb(eb.fn('lower', ['city']), '=', city));
    }
    if (options.from) query = query.where('starts_at', '>=', options.from);
    if (options.to) query = query.where('starts_at', '<', options.to);
    if (options.after) {
      const { startsAt, id } = options.after;
      // A row-value comparison walks the (starts_at, id) index in order.
      query = query.where(sql<boolean>`(starts_at, id) > (${startsAt}, ${id})`);
    }
    const rows = await query
      .orderBy('starts_at')
      .orderBy('id')
      .limit(options.limit + 1)
      .execute();
    return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
  }

  /**
   * Applies an update unless the event is cancelled. A capacity change (general admission)
   * resizes the stock buckets and is refused (undefined) when it would drop below what is
   * held or sold; the buckets' CHECK constraints refuse the same even if this were wrong.
   */
  async update(
    id: string,
    change: Updateable<EventsTable>,
    options: { capacity?: number; repriceSeats: boolean },
    also?: AlsoInTransaction<EventRow>,
  ): Promise<EventRow | undefined> {
    const { capacity } = options;
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (!(await lockUnlessCancelled(trx, id))) return undefined;
        await trx
          .updateTable('events')
          .set({
            ...change,
            ...(capacity !== undefined ? { capacity } : {}),
            updated_at: new Date(),
          })
          .where('id', '=', id)
          .execute();
        if (capacity !== undefined) {
          const { rows } = await sql<{ resized: boolean }>`
            SELECT event_stock_rebalance(${id}, NULL, NULL, ${capacity}::int) AS resized`.execute(
            trx,
          );
          if (!rows[0]?.resized) throw new CapacityConflict();
        }
        const row = (await this.findById(id, trx))!;
        if (options.repriceSeats && row.seating === 'reserved' && row.status === 'published') {
          await repriceAvailableSeats(trx, row);
        }
        await also?.(trx, row);
        return row;
      });
    } catch (error) {
      if (error instanceof CapacityConflict) return undefined;
      throw error;
    }
  }

  /**
   * draft → published; reserved seating materializes one row per seat of `layout` (the
   * venue's, from the venues module), atomically.
   */
  async publish(
    id: string,
    layout: VenueLayoutView | undefined,
    also?: AlsoInTransaction<EventRow>,
  ): Promise<EventRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('events')
        .set({ status: 'published', published_at: new Date(), updated_at: new Date() })
        .where('id', '=', id)
        .where('status', '=', 'draft')
        .returning(['id', 'seating', 'section_prices', 'price_cents'])
        .executeTakeFirst();
      if (row?.seating === 'reserved' && layout) {
        const rows = layout
          .flatMap((section) =>
            section.rows.map((r) => ({ section: section.name, label: r.label, seats: r.seats })),
          )
          .map((r, position) => ({ ...r, position }));
        await sql`
          INSERT INTO event_seats (event_id, section, row_label, number, price_cents, sort_key)
          SELECT ${row.id}, r.section, r.label, n,
                 COALESCE((${JSON.stringify(row.section_prices)}::jsonb ->> r.section)::int, ${row.price_cents}::int),
                 row_number() OVER (ORDER BY r.position, n)
          FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
               AS r(section text, label text, seats int, position int)
          CROSS JOIN LATERAL generate_series(1, r.seats) AS n`.execute(trx);
      }
      if (!row) return undefined;
      const published = (await this.findById(id, trx))!;
      await also?.(trx, published);
      return published;
    });
  }

  /**
   * → cancelled. The row is locked FOR UPDATE first: hold and sale batches under way (they
   * share it, FOR KEY SHARE) commit before, and the later ones see the cancellation, so no
   * sale commits after the cancellation that would have refunded it.
   */
  cancel(id: string, also?: AlsoInTransaction<EventRow>): Promise<EventRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await lockUnlessCancelled(trx, id))) return undefined;
      await trx
        .updateTable('events')
        .set({ status: 'cancelled', cancelled_at: new Date(), updated_at: new Date() })
        .where('id', '=', id)
        .execute();
      const cancelled = (await this.findById(id, trx))!;
      await also?.(trx, cancelled);
      return cancelled;
    });
  }

  seats(eventId: string): Promise<SeatRow[]> {
    return this.readDb
      .selectFrom('event_seats')
      .select(['id', 'section', 'row_label', 'number', 'status', 'price_cents'])
      .where('event_id', '=', eventId)
      .orderBy('sort_key')
      .execute();
  }
}

/**
 * Locks the event FOR UPDATE unless it is cancelled. Hold and sale batches share the row (FOR
 * KEY SHARE): those under way finish before the caller's change, later ones see it.
 */
async function lockUnlessCancelled(trx: Kysely<DB>, id: string): Promise<boolean> {
  const locked = await trx
    .selectFrom('events')
    .select('id')
    .where('id', '=', id)
    .where('status', '<>', 'cancelled')
    .forUpdate()
    .executeTakeFirst();
  return locked !== undefined;
}

// New prices apply to seats not yet held or sold; a hold keeps the price it was made at.
async function repriceAvailableSeats(trx: Kysely<DB>, event: EventRow): Promise<void> {
  await sql`
    UPDATE event_seats
    SET price_cents = COALESCE((${JSON.stringify(event.section_prices)}::jsonb ->> section)::int, ${event.price_cents}::int)
    WHERE event_id = ${event.id} AND status = 'available'`.execute(trx);
}
