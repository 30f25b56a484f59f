import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, type paths } from '../api/client';
import { problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { QrCode } from '../components/qr-code';
import { usePageTitle } from '../components/use-page-title';
import { money, when } from '../format';
import { RequireSignIn } from '../session/sign-in-redirect';
import { useSessionUser } from '../session/session';
import { CancelBooking, type Cancellation } from './cancel-booking';
import { downloadTicketsPdf, seatsOfTickets, type TicketDetail } from './ticket-downloads';

type Booking =
  paths['/api/v1/bookings/{id}']['get']['responses'][200]['content']['application/json'];
type EventDetail =
  paths['/api/v1/events/{id}']['get']['responses'][200]['content']['application/json'];

/** One booking: its status, total and tickets, each with its code as a QR image. */
export function BookingPage() {
  return (
    <RequireSignIn>
      <Booking />
    </RequireSignIn>
  );
}

function Booking() {
  const { id = '' } = useParams();
  const user = useSessionUser();
  const [booking, setBooking] = useState<Booking | null>(null);
  const [event, setEvent] = useState<EventDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelled, setCancelled] = useState<Cancellation | null>(null);
  const [seats, setSeats] = useState<Map<string, NonNullable<TicketDetail['seat']>>>(new Map());
  const [pdfError, setPdfError] = useState<string | null>(null);
  const [downloading, setDownloading] = useState(false);
  usePageTitle(event ? `Tickets for ${event.name}` : 'Booking');

  const loadBooking = async () => {
    const { data, error, response } = await api.GET('/api/v1/bookings/{id}', {
      params: { path: { id } },
    });
    if (!data) {
      setError(problemMessage(error, response));
      return null;
    }
    setBooking(data);
    return data;
  };

  useEffect(() => {
    if (!user) return;
    void (async () => {
      const data = await loadBooking();
      if (!data) return;
      void seatsOfTickets(data.tickets).then(setSeats);
      const found = await api.GET('/api/v1/events/{id}', {
        params: { path: { id: data.eventId } },
      });
      if (found.data) setEvent(found.data);
    })();
  }, [id, user]);

  const downloadPdf = async () => {
    setDownloading(true);
    setPdfError(await downloadTicketsPdf(id));
    setDownloading(false);
  };

  if (!booking) return error ? <Alert message={error} /> : <p className="muted">Loading…</p>;
  return (
    <section>
      <p>
        <Link to="/bookings">← My bookings</Link>
      </p>
      <h1>{event ? event.name : 'Your booking'}</h1>
      <p className="card-meta">
        <span className={`badge badge-${booking.status}`}>{booking.status}</span>
        <span>{money(booking.totalCents, booking.currency)}</span>
        {event && <time dateTime={event.startsAt}>{when(event.startsAt)}</time>}
      </p>
      {cancelled && (
        <Alert
          tone="info"
          message={`Booking cancelled. ${money(cancelled.refundCents, booking.currency)} will be refunded to your card.`}
        />
      )}
      {booking.status === 'cancelled' && (
        <p className="refund-line">
          Refunded <strong>{money(booking.refundCents, booking.currency)}</strong>
          {booking.cancelledAt && (
            <>
              {' '}
              on <time dateTime={booking.cancelledAt}>{when(booking.cancelledAt)}</time>
            </>
          )}
        </p>
      )}
      <CancelBooking
        booking={booking}
        onCancelled={(result) => {
          setCancelled(result);
          void loadBooking();
        }}
      />
      <h2>Tickets</h2>
      {booking.status !== 'cancelled' && (
        <p>
          <button
            type="button"
            className="button button-secondary"
            disabled={downloading}
            onClick={() => void downloadPdf()}
          >
            {downloading ? 'Preparing PDF…' : 'Download tickets (PDF)'}
          </button>
        </p>
      )}
      <Alert message={pdfError} />
      <ul className="ticket-grid">
        {booking.tickets.map((ticket, i) => {
          const seat = seats.get(ticket.id);
          return (
            <li key={ticket.id} className="card ticket">
              <QrCode value={ticket.code} label={`QR code of ticket ${i + 1}`} />
              <p>
                <strong>Ticket {i + 1}</strong> · {ticket.status}
              </p>
              {seat && (
                <p>
                  {seat.section} · row {seat.row} · seat {seat.number}
                </p>
              )}
              <p className="muted small code">{ticket.code}</p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
