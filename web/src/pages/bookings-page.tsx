import { useEffect, useState } from 'react';
import { Link, Navigate } from 'react-router';
import { api, type paths } from '../api/client';
import { problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { usePageTitle } from '../components/use-page-title';
import { money, when } from '../format';
import { useSessionUser } from '../session/session';

type BookingSummary =
  paths['/api/v1/bookings']['get']['responses'][200]['content']['application/json']['items'][number];

/** The signed-in user's bookings, newest first, a cursor page at a time. */
export function BookingsPage() {
  usePageTitle('My bookings');
  const user = useSessionUser();
  const [bookings, setBookings] = useState<BookingSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor?: string) => {
    const { data, error, response } = await api.GET('/api/v1/bookings', {
      params: { query: { cursor } },
    });
    if (!data) return setError(problemMessage(error, response));
    setBookings((shown) => (cursor && shown ? [...shown, ...data.items] : data.items));
    setNext(data.nextCursor);
  };
  useEffect(() => {
    if (user) void load();
  }, [user]);

  if (!user) return <Navigate to="/login?next=%2Fbookings" replace />;
  return (
    <section>
      <h1>My bookings</h1>
      <Alert message={error} />
      {bookings?.length === 0 && (
        <p className="muted">
          No bookings yet. <Link to="/">Find an event</Link>.
        </p>
      )}
      <ul className="list">
        {bookings?.map((booking) => (
          <li key={booking.id} className="card list-item">
            <div>
              <Link to={`/bookings/${booking.id}`}>
                Booking of {booking.quantity} {booking.quantity === 1 ? 'ticket' : 'tickets'}
              </Link>
              <p className="muted small">{when(booking.createdAt)}</p>
            </div>
            <span className={`badge badge-${booking.status}`}>{booking.status}</span>
            <strong>{money(booking.totalCents, booking.currency)}</strong>
          </li>
        ))}
      </ul>
      {next && (
        <button type="button" className="button button-secondary" onClick={() => void load(next)}>
          More bookings
        </button>
      )}
    </section>
  );
}
