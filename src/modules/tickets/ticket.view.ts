import type { ManifestRow, SeatLabel, TicketDetails } from './ticket.repository.js';
import type { CheckInView, ManifestView, TicketView } from './ticket.schemas.js';

/** `seat` is left out for general admission (API.md: `seat?`). */
const seatField = (seat: SeatLabel | null) => (seat ? { seat } : {});

export function toTicketView(ticket: TicketDetails): TicketView {
  return {
    id: ticket.id,
    bookingId: ticket.booking_id,
    eventId: ticket.event_id,
    ...seatField(ticket.seat),
    code: ticket.code,
    status: ticket.status,
    checkedInAt: ticket.checked_in_at?.toISOString() ?? null,
  };
}

export function toCheckInView(ticket: TicketDetails): CheckInView {
  return {
    ticketId: ticket.id,
    ...seatField(ticket.seat),
    holderName: ticket.holder_name,
    checkedInAt: ticket.checked_in_at!.toISOString(),
  };
}

export function toManifestTicket(row: ManifestRow): ManifestView['tickets'][number] {
  return {
    codeHash: row.code_hash,
    ...seatField(row.seat),
    status: row.status,
    checkedInAt: row.checked_in_at?.toISOString() ?? null,
  };
}
