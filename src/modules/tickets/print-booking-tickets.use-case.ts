import type { Readable } from 'node:stream';
import { AppError, notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { EventLookup } from '../events/index.js';
import type { VenueLookup } from '../venues/index.js';
import { assertMayAccessTicket } from './ticket-access.js';
import { ticketsPdf, type PrintedEvent } from './ticket-pdf.js';
import type { TicketRepository } from './ticket.repository.js';

/**
 * `GET /bookings/:id/tickets.pdf`: the booking's tickets to print or carry, one page each.
 * Cancelled tickets are left out; a booking with none left has nothing to print.
 */
export class PrintBookingTickets {
  constructor(
    private readonly deps: {
      tickets: TicketRepository;
      events: EventLookup;
      venues: Pick<VenueLookup, 'findById'>;
    },
  ) {}

  async print(actor: Principal, bookingId: string): Promise<Readable> {
    const booking = await this.deps.tickets.bookingHolder(bookingId);
    if (!booking) throw notFound('Booking');
    await assertMayAccessTicket(
      this.deps.events,
      actor,
      { holderId: booking.user_id, eventId: booking.event_id },
      'Booking',
    );
    const tickets = (await this.deps.tickets.detailsOfBooking(bookingId)).filter(
      (t) => t.status !== 'cancelled',
    );
    if (tickets.length === 0) {
      throw new AppError('INVALID_STATE', `This booking (${booking.status}) has no valid tickets`);
    }
    return ticketsPdf({
      event: await this.printedEvent(booking.event_id),
      bookingId,
      tickets: tickets.map((t) => ({
        id: t.id,
        code: t.code,
        seat: t.seat,
        holderName: t.holder_name,
        status: t.status,
      })),
    });
  }

  private async printedEvent(eventId: string): Promise<PrintedEvent> {
    const event = await this.deps.events.findById(eventId);
    if (!event) throw notFound('Event');
    const venue = event.venue_id ? await this.deps.venues.findById(event.venue_id) : undefined;
    return {
      name: event.name,
      startsAt: event.starts_at,
      timezone: venue?.timezone ?? 'UTC',
      venue: venue
        ? `${venue.name}, ${venue.address}, ${venue.city}`
        : (event.city ?? 'Venue to be announced'),
    };
  }
}
