import { forbidden, notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { EventLookup } from '../events/index.js';
import type { BookingRow } from './booking.repository.js';

/**
 * Who may see or cancel a booking: its holder, the event's organizer, an admin. Anyone else is
 * told it does not exist, except an organizer, who learns it belongs to another event's.
 */
export async function assertMayAccessBooking(
  events: EventLookup,
  actor: Principal,
  booking: BookingRow,
): Promise<void> {
  if (actor.role === 'admin' || booking.user_id === actor.userId) return;
  const event = await events.findById(booking.event_id);
  if (event?.organizer_id === actor.userId) return;
  if (actor.role === 'organizer')
    throw forbidden('Only the holder, the event organizer or an admin');
  throw notFound('Booking');
}
