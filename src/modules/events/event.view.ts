import type { EventRow, SeatRow } from './event.repository.js';
import type { EventView, SeatMapView } from './event.schemas.js';

export function toEventView(row: EventRow): EventView {
  return {
    id: row.id,
    organizerId: row.organizer_id,
    venueId: row.venue_id,
    name: row.name,
    description: row.description,
    city: row.city,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    seating: row.seating,
    priceCents: row.price_cents,
    currency: row.currency,
    sectionPrices: row.section_prices,
    maxTicketsPerUser: row.max_tickets_per_user,
    salesStartAt: row.sales_start_at?.toISOString() ?? null,
    salesEndAt: row.sales_end_at?.toISOString() ?? null,
    status: row.status,
    capacity: row.capacity,
    available: row.available,
    held: row.held,
    sold: row.sold,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    publishedAt: row.published_at?.toISOString() ?? null,
    cancelledAt: row.cancelled_at?.toISOString() ?? null,
  };
}

/** Groups seats (already in layout order) into sections and rows. */
export function toSeatMap(event: EventRow, seats: SeatRow[]): SeatMapView {
  const sections: SeatMapView['sections'] = [];
  for (const seat of seats) {
    let section = sections.at(-1);
    if (!section || section.name !== seat.section) {
      section = { name: seat.section, rows: [] };
      sections.push(section);
    }
    let row = section.rows.at(-1);
    if (!row || row.label !== seat.row_label) {
      row = { label: seat.row_label, seats: [] };
      section.rows.push(row);
    }
    row.seats.push({
      id: seat.id,
      number: seat.number,
      status: seat.status,
      priceCents: seat.price_cents,
    });
  }
  return { eventId: event.id, seating: event.seating, sections };
}
