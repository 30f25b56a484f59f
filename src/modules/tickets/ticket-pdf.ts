import PDFDocument from 'pdfkit';
import type { Readable } from 'node:stream';
import { qrPath } from './qr-code.js';
import type { SeatLabel } from './ticket.repository.js';

export interface PrintedEvent {
  name: string;
  startsAt: Date;
  /** IANA zone the date is shown in: the venue's, else UTC. */
  timezone: string;
  venue: string;
}

export interface PrintedTicket {
  id: string;
  code: string;
  seat: SeatLabel | null;
  holderName: string;
  status: string;
}

const MARGIN = 56;
const QR_SIDE = 220;

/**
 * One A5 page per ticket: event, date, venue, seat, holder, the QR code and the code in plain
 * text under it (door staff can type it when a camera fails). The document is a stream: the
 * caller sends it as pdfkit writes it. Standard PDF fonts: Latin text only (docs/check-in.md).
 */
export function ticketsPdf(input: {
  event: PrintedEvent;
  bookingId: string;
  tickets: PrintedTicket[];
}): Readable {
  const doc = new PDFDocument({
    size: 'A5',
    margin: MARGIN,
    autoFirstPage: false,
    info: { Title: `Tickets: ${input.event.name}`, Author: 'Evently' },
  });
  input.tickets.forEach((ticket, index) =>
    drawTicket(doc, input.event, input.bookingId, ticket, {
      index,
      count: input.tickets.length,
    }),
  );
  doc.end();
  return doc;
}

function drawTicket(
  doc: PDFKit.PDFDocument,
  event: PrintedEvent,
  bookingId: string,
  ticket: PrintedTicket,
  position: { index: number; count: number },
): void {
  doc.addPage();
  const width = doc.page.width - 2 * MARGIN;
  doc.font('Helvetica').fontSize(9).fillColor('#555555');
  doc.text(`Ticket ${position.index + 1} of ${position.count}`, { width });
  doc.moveDown(0.5);
  doc.font('Helvetica-Bold').fontSize(20).fillColor('#000000').text(event.name, { width });
  doc.moveDown(0.4);
  doc.font('Helvetica').fontSize(11);
  doc.text(formatDate(event.startsAt, event.timezone), { width });
  doc.text(event.venue, { width });
  doc.moveDown(0.8);

  field(doc, 'Seat', seatText(ticket.seat), width);
  field(doc, 'Holder', ticket.holderName, width);
  if (ticket.status !== 'valid') field(doc, 'Status', ticket.status.replace('_', ' '), width);
  doc.moveDown(0.5);

  const { size, path } = qrPath(ticket.code);
  const x = MARGIN + (width - QR_SIDE) / 2;
  const y = doc.y;
  doc
    .save()
    .translate(x, y)
    .scale(QR_SIDE / size);
  doc.rect(0, 0, size, size).fill('#ffffff');
  doc.path(path).fill('#000000');
  doc.restore();
  doc.y = y + QR_SIDE + 6;
  doc.font('Courier').fontSize(11).text(ticket.code, MARGIN, doc.y, { width, align: 'center' });
  doc.moveDown(0.8);
  doc.font('Helvetica').fontSize(8).fillColor('#555555');
  doc.text(`Booking ${bookingId} · ticket ${ticket.id}`, { width, align: 'center' });
}

function field(doc: PDFKit.PDFDocument, label: string, value: string, width: number): void {
  doc.font('Helvetica').fontSize(9).fillColor('#555555').text(label.toUpperCase(), { width });
  doc.font('Helvetica-Bold').fontSize(14).fillColor('#000000').text(value, { width });
  doc.moveDown(0.3);
}

const seatText = (seat: SeatLabel | null) =>
  seat ? `${seat.section}, row ${seat.row}, seat ${seat.number}` : 'General admission';

function formatDate(at: Date, timezone: string): string {
  return (
    new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      dateStyle: 'full',
      timeStyle: 'short',
    }).format(at) + ` (${timezone})`
  );
}
