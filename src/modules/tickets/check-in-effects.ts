import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { writeOutbox } from '../../platform/outbox.js';
import { recordAudit, type AuditContext } from '../audit/index.js';

export const TICKET_CHECKED_IN = 'ticket.checked_in';

/** How a check-in arrived: a scan answered online, or an offline scan synced later. */
export type CheckInSource = { via: 'scan' } | { via: 'sync'; deviceId: string; scannedAt: Date };

/**
 * What a check-in leaves besides the ticket row, in its transaction: the audit row and, for a
 * ticket that just became checked in, the `ticket.checked_in` message (live counts, and later
 * webhooks). An offline scan that only moves an existing check-in earlier is audited with the
 * time before and after, and sends no message: nothing was counted anew. Never the code.
 */
export async function recordCheckIn(
  trx: Kysely<DB>,
  input: {
    ticket: { id: string; booking_id: string; event_id: string };
    checkedInAt: Date;
    /** The earlier check-in time this one replaces (offline sync only). */
    replaces?: Date;
    source: CheckInSource;
    audit: AuditContext;
  },
): Promise<void> {
  const { ticket, checkedInAt, source } = input;
  await recordAudit(trx, {
    context: input.audit,
    action: 'ticket.checked_in',
    target: { type: 'ticket', id: ticket.id },
    before: input.replaces
      ? { status: 'checked_in', checkedInAt: input.replaces.toISOString() }
      : { status: 'valid' },
    after: {
      status: 'checked_in',
      checkedInAt: checkedInAt.toISOString(),
      eventId: ticket.event_id,
      bookingId: ticket.booking_id,
      via: source.via,
      ...(source.via === 'sync' ? { deviceId: source.deviceId } : {}),
    },
  });
  if (input.replaces) return;
  await writeOutbox(trx, [
    {
      type: TICKET_CHECKED_IN,
      aggregateType: 'ticket',
      aggregateId: ticket.id,
      payload: {
        eventId: ticket.event_id,
        ticketId: ticket.id,
        bookingId: ticket.booking_id,
        checkedInAt: checkedInAt.toISOString(),
        via: source.via,
      },
    },
  ]);
}
