import { api, type paths } from '../api/client';
import { problemMessage } from '../api/problems';
import { saveBlob } from '../components/save-blob';

export type TicketDetail =
  paths['/api/v1/tickets/{id}']['get']['responses'][200]['content']['application/json'];

/** Saves the booking's tickets as one PDF (a page per ticket); a message when refused. */
export async function downloadTicketsPdf(bookingId: string): Promise<string | null> {
  const { data, error, response } = await api.GET('/api/v1/bookings/{id}/tickets.pdf', {
    params: { path: { id: bookingId } },
    parseAs: 'blob',
  });
  if (!data) return problemMessage(error, response);
  saveBlob(data, `tickets-${bookingId}.pdf`);
  return null;
}

/**
 * The seat of each ticket that has one, by ticket id. The booking lists only seat ids; the
 * ticket route names the seat (section, row, number). A booking holds at most a few tickets.
 */
export async function seatsOfTickets(
  tickets: Array<{ id: string; seatId?: string | null }>,
): Promise<Map<string, NonNullable<TicketDetail['seat']>>> {
  const seated = tickets.filter((t) => t.seatId);
  const details = await Promise.all(
    seated.map((t) => api.GET('/api/v1/tickets/{id}', { params: { path: { id: t.id } } })),
  );
  const seats = new Map<string, NonNullable<TicketDetail['seat']>>();
  for (const { data } of details) if (data?.seat) seats.set(data.id, data.seat);
  return seats;
}
