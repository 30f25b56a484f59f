import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';

const HEADER = [
  'booking_id',
  'booking_status',
  'booked_at',
  'confirmed_at',
  'cancelled_at',
  'quantity',
  'total_cents',
  'refund_cents',
  'currency',
  'attendee_name',
  'attendee_email',
  'ticket_id',
  'ticket_code',
  'ticket_status',
  'section',
  'row',
  'seat',
];

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

interface ExportRow {
  booking_id: string;
  status: string;
  created_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  quantity: number;
  total_cents: number;
  refund_cents: number;
  currency: string;
  name: string;
  email: string;
  ticket_id: string | null;
  code: string | null;
  ticket_status: string | null;
  section: string | null;
  row_label: string | null;
  number: number | null;
}

/**
 * An event's bookings and attendees as CSV, one line per ticket (a booking without tickets
 * gets one line), read in keyset batches so memory stays bounded whatever the event's size:
 * the next batch is fetched only when the client has taken the previous one.
 */
/** `GET /events/:id/bookings.csv`, streamed from the replica when one is configured. */
export class BookingsExport {
  constructor(private readonly deps: { readDb: Kysely<DB>; batchSize?: number }) {}

  csvOf(eventId: string): Readable {
    return Readable.from(lines(this.deps.readDb, eventId, this.deps.batchSize ?? 1000), {
      objectMode: false,
    });
  }
}

async function* lines(db: Kysely<DB>, eventId: string, batchSize: number): AsyncGenerator<string> {
  yield `${HEADER.join(',')}\r\n`;
  // Position: (booking created_at, booking id, ticket id); the nil uuid stands for "no ticket"
  // and sorts first. The created_at bound lets the (event_id, created_at) index start there.
  let after: { createdAt: Date; bookingId: string; ticketId: string } | undefined;
  for (;;) {
    const { rows } = await sql<ExportRow>`
      SELECT b.id AS booking_id, b.status, b.created_at, b.confirmed_at, b.cancelled_at,
             b.quantity, b.total_cents, b.refund_cents, b.currency, u.name, u.email,
             t.id AS ticket_id, t.code, t.status AS ticket_status,
             s.section, s.row_label, s.number
      FROM bookings b
      JOIN users u ON u.id = b.user_id
      LEFT JOIN tickets t ON t.booking_id = b.id
      LEFT JOIN event_seats s ON s.id = t.seat_id
      WHERE b.event_id = ${eventId}
        ${
          after
            ? sql`AND b.created_at >= ${after.createdAt}
                  AND (b.created_at, b.id, coalesce(t.id, ${NIL_UUID}::uuid)) >
                      (${after.createdAt}, ${after.bookingId}::uuid, ${after.ticketId}::uuid)`
            : sql``
        }
      ORDER BY b.created_at, b.id, coalesce(t.id, ${NIL_UUID}::uuid)
      LIMIT ${batchSize}`.execute(db);
    if (rows.length === 0) return;
    yield rows.map(toLine).join('');
    const last = rows.at(-1)!;
    after = {
      createdAt: last.created_at,
      bookingId: last.booking_id,
      ticketId: last.ticket_id ?? NIL_UUID,
    };
    if (rows.length < batchSize) return;
  }
}

function toLine(row: ExportRow): string {
  return (
    [
      row.booking_id,
      row.status,
      row.created_at.toISOString(),
      row.confirmed_at?.toISOString() ?? '',
      row.cancelled_at?.toISOString() ?? '',
      row.quantity,
      row.total_cents,
      row.refund_cents,
      row.currency,
      defused(row.name),
      defused(row.email),
      row.ticket_id ?? '',
      row.code ?? '',
      row.ticket_status ?? '',
      defused(row.section ?? ''),
      defused(row.row_label ?? ''),
      row.number ?? '',
    ]
      .map(csvField)
      .join(',') + '\r\n'
  );
}

/**
 * Text people typed (names, emails, an organizer's section and row labels) that a spreadsheet
 * would run as a formula — starting with =, +, -, @ — gets a leading apostrophe. Codes and ids
 * are ours and go out verbatim: a check-in list must match them byte for byte.
 */
function defused(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** RFC 4180 quoting. */
function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
