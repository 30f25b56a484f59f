import { notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { EventLookup } from '../events/index.js';
import type { CheckInAccess } from './check-in-access.js';
import { qrSvg } from './qr-code.js';
import { assertMayAccessTicket } from './ticket-access.js';
import type { TicketDetails, TicketRepository } from './ticket.repository.js';
import type { ManifestView, TicketView } from './ticket.schemas.js';
import { toManifestTicket, toTicketView } from './ticket.view.js';

/** `GET /tickets/:id`, its QR image, and an event's offline manifest. */
export class TicketQueries {
  constructor(
    private readonly deps: {
      tickets: TicketRepository;
      events: EventLookup;
      access: CheckInAccess;
      now: () => Date;
    },
  ) {}

  async get(actor: Principal, id: string): Promise<TicketView> {
    return toTicketView(await this.visibleTicket(actor, id));
  }

  async qrSvg(actor: Principal, id: string): Promise<string> {
    const ticket = await this.visibleTicket(actor, id);
    return qrSvg(ticket.code);
  }

  /** Every ticket of the event by the SHA-256 of its code: a lost device leaks no codes. */
  async manifest(actor: Principal, eventId: string): Promise<ManifestView> {
    await this.deps.access.assertMayCheckIn(actor, eventId);
    const generatedAt = this.deps.now().toISOString();
    const rows = await this.deps.tickets.manifest(eventId);
    return { generatedAt, tickets: rows.map(toManifestTicket) };
  }

  private async visibleTicket(actor: Principal, id: string): Promise<TicketDetails> {
    const ticket = await this.deps.tickets.findDetails(id);
    if (!ticket) throw notFound('Ticket');
    await assertMayAccessTicket(
      this.deps.events,
      actor,
      { holderId: ticket.holder_id, eventId: ticket.event_id },
      'Ticket',
    );
    return ticket;
  }
}
