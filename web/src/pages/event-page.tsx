import { useCallback, useEffect, useState } from 'react';
import { useLocation, useNavigate, useParams } from 'react-router';
import { api, type paths } from '../api/client';
import { isProblem, problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { usePageTitle } from '../components/use-page-title';
import { money, newKey, when } from '../format';
import { LiveBadge } from '../live/live-badge';
import { useLiveSeats } from '../live/use-live-seats';
import { session, useSessionUser } from '../session/session';
import { CheckoutPanel, type Hold } from './checkout-panel';
import { SeatMap } from './seat-map';

type EventDetail =
  paths['/api/v1/events/{id}']['get']['responses'][200]['content']['application/json'];

/** One event: its details, then seats on the map or a quantity, then hold and checkout. */
export function EventPage() {
  const { id = '' } = useParams();
  // Keyed by the event, so moving to another event starts from a clean page.
  return <EventDetails key={id} id={id} />;
}

function EventDetails({ id }: { id: string }) {
  const navigate = useNavigate();
  const location = useLocation();
  const user = useSessionUser();
  const [event, setEvent] = useState<EventDetail | null>(null);
  const [quantity, setQuantity] = useState(1);
  const [hold, setHold] = useState<Hold | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(event?.name ?? 'Event');
  const live = useLiveSeats(id, setInfo);
  const { layout, selected, load: loadLayout, holding, clearSelection } = live;

  const refresh = useCallback(async () => {
    // Both at once: on a big venue the seat map is the slow one, and it need not wait.
    const [{ data, error, response }, seats] = await Promise.all([
      api.GET('/api/v1/events/{id}', { params: { path: { id } } }),
      api.GET('/api/v1/events/{id}/seats', { params: { path: { id } } }),
    ]);
    if (!data) return setError(problemMessage(error, response));
    setEvent(data);
    if (data.seating === 'reserved' && seats.data) loadLayout(seats.data);
  }, [id, loadLayout]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const holdTickets = async () => {
    if (!user) {
      navigate(`/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    setBusy(true);
    setError(null);
    setInfo(null);
    const body = event?.seating === 'reserved' ? { seatIds: [...selected] } : { quantity };
    holding(body.seatIds ?? []);
    const { data, error, response } = await api.POST('/api/v1/events/{id}/holds', {
      params: { path: { id }, header: { 'idempotency-key': newKey() } },
      body,
    });
    setBusy(false);
    if (data) {
      holding(data.seatIds ?? []);
      setHold(data);
      return;
    }
    holding([]);
    setError(problemMessage(error, response));
    if (response.status === 401 && !session.currentUser()) navigate('/login');
    if (isProblem(error) && error.code === 'SEAT_UNAVAILABLE') {
      clearSelection();
      void refresh();
    }
  };

  const backToChoosing = useCallback(
    (message: string | null) => {
      holding([]);
      setHold(null);
      clearSelection();
      setInfo(message);
      void refresh();
    },
    [refresh, holding, clearSelection],
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
  // The live counts once the feed has spoken; until then the page's own read.
  const { available } = live.availability ?? event;
  const onSale = event.status === 'published' && available > 0;

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
            {available} of {event.capacity} available
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
          <div className="section-heading">
            <h2 id="choose-seats">Choose your seats</h2>
            <LiveBadge connection={live.connection} />
          </div>
          {layout ? (
            <SeatMap
              layout={layout}
              currency={event.currency}
              selected={selected}
              onToggle={live.toggle}
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
          <div className="section-heading">
            <h2 id="choose-quantity">Tickets</h2>
            <LiveBadge connection={live.connection} />
          </div>
          <p>
            General admission · {money(event.priceCents, event.currency)} each ·{' '}
            <span className="availability">{available} available</span>
          </p>
          <div className="selection-bar">
            <label className="quantity">
              <span>Quantity</span>
              <input
                type="number"
                min={1}
                max={Math.max(1, Math.min(event.maxTicketsPerUser, available))}
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
