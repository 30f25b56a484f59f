import { useCallback, useEffect, useState } from 'react';
import { useLocation, useNavigate, useParams } from 'react-router';
import { api, type paths } from '../api/client';
import { isProblem, problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { usePageTitle } from '../components/use-page-title';
import { money, newKey, when } from '../format';
import { session, useSessionUser } from '../session/session';
import { CheckoutPanel, type Hold } from './checkout-panel';
import { SeatMap, type SeatLayout } from './seat-map';

type EventDetail =
  paths['/api/v1/events/{id}']['get']['responses'][200]['content']['application/json'];

/** One event: its details, then seats on the map or a quantity, then hold and checkout. */
export function EventPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const user = useSessionUser();
  const [event, setEvent] = useState<EventDetail | null>(null);
  const [layout, setLayout] = useState<SeatLayout | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [quantity, setQuantity] = useState(1);
  const [hold, setHold] = useState<Hold | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(event?.name ?? 'Event');

  const refresh = useCallback(async () => {
    const { data, error, response } = await api.GET('/api/v1/events/{id}', {
      params: { path: { id } },
    });
    if (!data) return setError(problemMessage(error, response));
    setEvent(data);
    if (data.seating === 'reserved') {
      const seats = await api.GET('/api/v1/events/{id}/seats', { params: { path: { id } } });
      if (seats.data) setLayout(seats.data);
    }
  }, [id]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const toggle = (seat: { id: string }) =>
    setSelected((current) => {
      const next = new Set(current);
      if (!next.delete(seat.id)) next.add(seat.id);
      return next;
    });

  const holdTickets = async () => {
    if (!user) {
      navigate(`/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    setBusy(true);
    setError(null);
    setInfo(null);
    const body = event?.seating === 'reserved' ? { seatIds: [...selected] } : { quantity };
    const { data, error, response } = await api.POST('/api/v1/events/{id}/holds', {
      params: { path: { id }, header: { 'idempotency-key': newKey() } },
      body,
    });
    setBusy(false);
    if (data) {
      setHold(data);
      return;
    }
    setError(problemMessage(error, response));
    if (response.status === 401 && !session.currentUser()) navigate('/login');
    if (isProblem(error) && error.code === 'SEAT_UNAVAILABLE') {
      setSelected(new Set());
      void refresh();
    }
  };

  const backToChoosing = useCallback(
    (message: string | null) => {
      setHold(null);
      setSelected(new Set());
      setInfo(message);
      void refresh();
    },
    [refresh],
  );
  const onExpired = useCallback(
    () => backToChoosing('Your hold expired and the tickets went back on sale.'),
    [backToChoosing],
  );

  if (!event) {
    return error ? <Alert message={error} /> : <p className="muted">Loading event…</p>;
  }
  const selectedTotal =
    layout?.sections
      .flatMap((s) => s.rows.flatMap((r) => r.seats))
      .filter((seat) => selected.has(seat.id))
      .reduce((sum, seat) => sum + seat.priceCents, 0) ?? 0;
  const onSale = event.status === 'published' && event.available > 0;

  return (
    <article className="event">
      <header className="event-header">
        <p className="eyebrow">
          <time dateTime={event.startsAt}>{when(event.startsAt)}</time>
          {event.city ? ` · ${event.city}` : ''}
        </p>
        <h1>{event.name}</h1>
        <p className="event-description">{event.description}</p>
        <p className="card-meta">
          <span className="badge">
            {event.available} of {event.capacity} available
          </span>
          <span>Up to {event.maxTicketsPerUser} tickets per person</span>
        </p>
      </header>
      <Alert message={info} tone="info" />
      <Alert message={error} />
      {hold ? (
        <CheckoutPanel hold={hold} onExpired={onExpired} onReleased={() => backToChoosing(null)} />
      ) : event.seating === 'reserved' ? (
        <section aria-labelledby="choose-seats">
          <h2 id="choose-seats">Choose your seats</h2>
          {layout ? (
            <SeatMap
              layout={layout}
              currency={event.currency}
              selected={selected}
              onToggle={toggle}
            />
          ) : (
            <p className="muted">Loading the seat map…</p>
          )}
          <div className="selection-bar">
            <p aria-live="polite">
              {selected.size === 0
                ? 'No seats selected'
                : `${selected.size} ${selected.size === 1 ? 'seat' : 'seats'} · ${money(selectedTotal, event.currency)}`}
            </p>
            <button
              type="button"
              className="button"
              disabled={busy || selected.size === 0}
              onClick={() => void holdTickets()}
            >
              Hold {selected.size === 1 ? 'seat' : 'seats'}
            </button>
          </div>
        </section>
      ) : (
        <section aria-labelledby="choose-quantity" className="card">
          <h2 id="choose-quantity">Tickets</h2>
          <p>
            General admission · {money(event.priceCents, event.currency)} each · {event.available}{' '}
            available
          </p>
          <div className="selection-bar">
            <label className="quantity">
              <span>Quantity</span>
              <input
                type="number"
                min={1}
                max={Math.max(1, Math.min(event.maxTicketsPerUser, event.available))}
                value={quantity}
                onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))}
              />
            </label>
            <p aria-live="polite">Total {money(quantity * event.priceCents, event.currency)}</p>
            <button
              type="button"
              className="button"
              disabled={busy || !onSale}
              onClick={() => void holdTickets()}
            >
              Hold tickets
            </button>
          </div>
        </section>
      )}
    </article>
  );
}
