import { notFound } from '../../platform/errors.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import type { Principal } from '../../platform/principal.js';
import type { EventLookup } from '../events/index.js';
import { assertMayAccessBooking } from './booking-access.js';
import type { BookingRepository } from './booking.repository.js';
import type { BookingView } from './booking.schemas.js';
import { toBookingSummary, toBookingView } from './booking.view.js';

/** `GET /bookings` and `GET /bookings/:id`: a user's bookings, newest first, and one booking. */
export class BookingQueries {
  constructor(private readonly deps: { bookings: BookingRepository; events: EventLookup }) {}

  async get(actor: Principal, id: string): Promise<BookingView> {
    const found = await this.deps.bookings.findWithDetails(id);
    if (!found) throw notFound('Booking');
    await assertMayAccessBooking(this.deps.events, actor, found.row);
    return toBookingView(found);
  }

  async listMine(actor: Principal, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const page = await this.deps.bookings.listByUser(actor.userId, {
      limit: query.limit,
      after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
    });
    return toPage(page, toBookingSummary, (row) => ({
      createdAt: row.created_at.toISOString(),
      id: row.id,
    }));
  }
}
