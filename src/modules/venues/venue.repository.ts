import { sql, type Kysely, type Selectable } from 'kysely';
import type { AlsoInTransaction } from '../../infra/postgres/also-in-transaction.js';
import type { DB, VenuesTable } from '../../platform/database/schema.js';
import type { VenueLayoutView } from './venue.schemas.js';

export type VenueRow = Selectable<VenuesTable>;

/** What other modules may ask of the venues tables: one venue, and its seat layout. */
export interface VenueLookup {
  findById(id: string): Promise<VenueRow | undefined>;
  /** Sections in order, each with its rows in order (label, seat count). */
  layout(venueId: string): Promise<VenueLayoutView>;
}

export class VenueRepository implements VenueLookup {
  constructor(private readonly db: Kysely<DB>) {}

  /** Stores the venue with its sections and rows in one transaction. */
  async insert(
    venue: Omit<VenueRow, 'id' | 'created_at'>,
    layout: VenueLayoutView,
    also?: AlsoInTransaction<VenueRow>,
  ): Promise<VenueRow> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('venues')
        .values(venue)
        .returningAll()
        .executeTakeFirstOrThrow();
      const sections = await trx
        .insertInto('venue_sections')
        .values(layout.map((s, position) => ({ venue_id: row.id, name: s.name, position })))
        .returning(['id', 'position'])
        .execute();
      const rows = sections.flatMap((section) =>
        layout[section.position]!.rows.map((r, position) => ({
          section_id: section.id,
          label: r.label,
          position,
          seat_count: r.seats,
        })),
      );
      await trx.insertInto('venue_rows').values(rows).execute();
      await also?.(trx, row);
      return row;
    });
  }

  findById(id: string): Promise<VenueRow | undefined> {
    return this.db.selectFrom('venues').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async layout(venueId: string): Promise<VenueLayoutView> {
    const rows = await this.db
      .selectFrom('venue_sections as s')
      .innerJoin('venue_rows as r', 'r.section_id', 's.id')
      .select(['s.name as section', 'r.label', 'r.seat_count'])
      .where('s.venue_id', '=', venueId)
      .orderBy('s.position')
      .orderBy('r.position')
      .execute();
    const sections: VenueLayoutView = [];
    for (const row of rows) {
      let section = sections.at(-1);
      if (!section || section.name !== row.section) {
        section = { name: row.section, rows: [] };
        sections.push(section);
      }
      section.rows.push({ label: row.label, seats: row.seat_count });
    }
    return sections;
  }

  async list(options: {
    limit: number;
    after?: { createdAt: Date; id: string };
    city?: string;
    ownerId?: string;
  }): Promise<{ rows: VenueRow[]; hasMore: boolean }> {
    let query = this.db.selectFrom('venues').selectAll();
    if (options.city) query = query.where('city', '=', options.city);
    if (options.ownerId) query = query.where('owner_id', '=', options.ownerId);
    if (options.after) {
      const { createdAt, id } = options.after;
      // A row-value comparison walks the (created_at, id) index in order.
      query = query.where(sql<boolean>`(created_at, id) > (${createdAt}, ${id})`);
    }
    const rows = await query
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit + 1)
      .execute();
    return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
  }
}
