import { useEffect, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { api, type paths } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import { money, when } from '../../format';
import type { EventView } from './event-draft';
import { useVenues } from './use-venues';

type Overview =
  paths['/api/v1/me/analytics']['get']['responses'][200]['content']['application/json'];
type StatusFilter = '' | EventView['status'];

/** /organizer: my events (drafts included), my venues, and my totals over the last 30 days. */
export function OrganizerHomePage() {
  usePageTitle('Organizer');
  const location = useLocation();
  const created = (location.state as { createdVenue?: { id: string; name: string } } | null)
    ?.createdVenue;
  return (
    <section className="stack organizer-home">
      <div className="page-head">
        <h1>Organizer</h1>
        <div className="button-row">
          <Link className="button" to="/organizer/events/new">
            New event
          </Link>
          <Link className="button button-secondary" to="/organizer/venues/new">
            New venue
          </Link>
        </div>
      </div>
      {created && (
        <p className="alert alert-info" role="status">
          Venue “{created.name}” created.{' '}
          <Link to={`/organizer/events/new?venue=${created.id}`}>Create an event there</Link>.
        </p>
      )}
      <Totals />
      <MyEvents />
      <MyVenues />
    </section>
  );
}

function Totals() {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void api.GET('/api/v1/me/analytics').then(({ data, error, response }) => {
      if (data) setOverview(data);
      else setError(problemMessage(error, response));
    });
  }, []);
  const totals = overview?.totals;
  return (
    <section aria-labelledby="totals-title">
      <h2 id="totals-title">Last 30 days</h2>
      <Alert message={error} />
      {!totals && !error && <p className="muted">Loading totals…</p>}
      {totals && (
        <dl className="stat-grid">
          <div className="stat card">
            <dt>Tickets sold</dt>
            <dd>{totals.ticketsSold.toLocaleString()}</dd>
          </div>
          <div className="stat card">
            <dt>Revenue</dt>
            {/* Summed over the events, in their (minor-unit) currency amounts. */}
            <dd>{(totals.revenueCents / 100).toFixed(2)}</dd>
          </div>
          <div className="stat card">
            <dt>Bookings</dt>
            <dd>{totals.bookings.toLocaleString()}</dd>
          </div>
          <div className="stat card">
            <dt>Cancellations</dt>
            <dd>{totals.cancellations.toLocaleString()}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}

function MyEvents() {
  const [status, setStatus] = useState<StatusFilter>('');
  const [events, setEvents] = useState<EventView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor?: string) => {
    const { data, error, response } = await api.GET('/api/v1/events', {
      params: { query: { organizer: 'me', limit: 20, cursor, ...(status ? { status } : {}) } },
    });
    if (!data) return setError(problemMessage(error, response));
    setError(null);
    setEvents((shown) => (cursor && shown ? [...shown, ...data.items] : data.items));
    setNext(data.nextCursor);
  };
  useEffect(() => {
    setEvents(null);
    void load();
    // Reloaded when the filter changes; `load` reads it.
  }, [status]);

  return (
    <section aria-labelledby="events-title" className="stack">
      <div className="section-head">
        <h2 id="events-title">My events</h2>
        <label className="inline-label">
          <span>Show</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)}>
            <option value="">All</option>
            <option value="draft">Drafts</option>
            <option value="published">Published</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </label>
      </div>
      <Alert message={error} />
      {!events && !error && <p className="muted">Loading events…</p>}
      {events?.length === 0 && (
        <p className="muted">
          {status ? 'No events with this status.' : 'No events yet.'}{' '}
          <Link to="/organizer/events/new">Create one</Link>.
        </p>
      )}
      {events && events.length > 0 && (
        <div className="table-scroll" tabIndex={0} role="region" aria-labelledby="events-title">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Starts</th>
                <th scope="col">Status</th>
                <th scope="col">Sold / capacity</th>
                <th scope="col">Price</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id}>
                  <th scope="row">
                    <Link to={`/organizer/events/${event.id}`}>{event.name}</Link>
                    {event.city && <span className="muted small"> · {event.city}</span>}
                  </th>
                  <td>
                    <time dateTime={event.startsAt}>{when(event.startsAt)}</time>
                  </td>
                  <td>
                    <span className={`badge badge-${event.status}`}>{event.status}</span>
                  </td>
                  <td>
                    {event.sold.toLocaleString()} / {event.capacity.toLocaleString()}
                  </td>
                  <td>{money(event.priceCents, event.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <p>
          <button type="button" className="button button-secondary" onClick={() => void load(next)}>
            More events
          </button>
        </p>
      )}
    </section>
  );
}

function MyVenues() {
  const { venues, error, more } = useVenues(true);
  return (
    <section aria-labelledby="venues-title" className="stack">
      <h2 id="venues-title">My venues</h2>
      <Alert message={error} />
      {!venues && !error && <p className="muted">Loading venues…</p>}
      {venues?.length === 0 && (
        <p className="muted">
          No venues yet. <Link to="/organizer/venues/new">Create one</Link> for reserved seating.
        </p>
      )}
      {venues && venues.length > 0 && (
        <ul className="card-grid venue-list">
          {venues.map((venue) => (
            <li key={venue.id} className="card">
              <h3 className="card-title">{venue.name}</h3>
              <p className="muted small">
                {venue.address}, {venue.city}
              </p>
              <p className="card-meta">
                <span className="badge">{venue.capacity.toLocaleString()} seats</span>
                <Link to={`/organizer/events/new?venue=${venue.id}`}>
                  New event at {venue.name}
                </Link>
              </p>
            </li>
          ))}
        </ul>
      )}
      {more && (
        <p>
          <button type="button" className="button button-secondary" onClick={more}>
            More venues
          </button>
        </p>
      )}
    </section>
  );
}
