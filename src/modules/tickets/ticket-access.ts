import { forbidden, notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { EventLookup } from '../events/index.js';

/**
 * Who may see a ticket (and print or scan its QR code): the holder of its booking, the event's
 * organizer, an admin. Anyone else is told it does not exist, except an organizer, who learns it
 * belongs to another event's (the rule bookings follow).
 */
export async function assertMayAccessTicket(
  events: EventLookup,
  actor: Principal,
  owned: { holderId: string; eventId: string },
  what: string,
): Promise<void> {
  if (actor.role === 'admin' || owned.holderId === actor.userId) return;
  const event = await events.findById(owned.eventId);
  if (event?.organizer_id === actor.userId) return;
  if (actor.role === 'organizer')
    throw forbidden('Only the holder, the event organizer or an admin');
  throw notFound(what);
}
