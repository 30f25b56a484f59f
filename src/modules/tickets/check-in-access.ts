import { forbidden, notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { EventLookup, EventRow } from '../events/index.js';
import type { ScannerGrantRepository } from './scanner-grant.repository.js';

/**
 * Who may check tickets in for an event, read its manifest and sync offline scans: its
 * organizer, an admin, or a user the organizer granted the event's scanner role. Asked on
 * every check-in request, so a revoked grant stops working at once.
 */
export class CheckInAccess {
  constructor(private readonly deps: { events: EventLookup; grants: ScannerGrantRepository }) {}

  async assertMayCheckIn(actor: Principal, eventId: string): Promise<EventRow> {
    const event = await this.deps.events.findById(eventId);
    if (!event) throw notFound('Event');
    if (actor.role === 'admin' || event.organizer_id === actor.userId) return event;
    if (await this.deps.grants.isGranted(eventId, actor.userId)) return event;
    // Someone else's draft is not even acknowledged (as for every event route).
    if (event.status === 'draft') throw notFound('Event');
    throw forbidden('Only the organizer, an admin or a scanner of this event may check tickets in');
  }
}
