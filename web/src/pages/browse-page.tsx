import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type paths } from '../api/client';
import { problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { usePageTitle } from '../components/use-page-title';
import { money, when } from '../format';

type EventSummary =
  paths['/api/v1/events']['get']['responses'][200]['content']['application/json']['items'][number];

/** Published events, searchable by text, city and dates, one cursor page at a time. */
export function BrowsePage() {
  usePageTitle('Events');
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const city = params.get('city') ?? '';
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const dates = dateRange(from, to);
  const [events, setEvents] = useState<EventSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor?: string) => {
    if ('problem' in dates) {
      setEvents([]);
      setNext(null);
      setLoading(false);
      return setError(dates.problem);
    }
    setLoading(true);
    const { data, error, response } = await api.GET('/api/v1/events', {
      params: {
        query: { q: q || undefined, city: city || undefined, ...dates, cursor, limit: 12 },
      },
    });
    setLoading(false);
    if (!data) return setError(problemMessage(error, response));
    setError(null);
    setEvents((shown) => (cursor ? [...shown, ...data.items] : data.items));
    setNext(data.nextCursor);
  };

  useEffect(() => {
    void load();
  }, [q, city, from, to]);

  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const entries = [...form.entries()].filter(([, v]) => String(v).trim() !== '');
    setParams(new URLSearchParams(entries.map(([k, v]) => [k, String(v).trim()])));
  };

  return (
    <section>
      <h1>Find your next event</h1>
      <form className="search" role="search" onSubmit={search}>
        <label>
          <span>Search</span>
          <input name="q" type="search" defaultValue={q} placeholder="Artist, talk, show…" />
        </label>
        <label>
          <span>City</span>
          <input name="city" defaultValue={city} placeholder="Any city" />
        </label>
        <label className="search-date">
          <span>From</span>
          <input name="from" type="date" defaultValue={from} />
        </label>
        <label className="search-date">
          <span>To</span>
          <input name="to" type="date" defaultValue={to} />
        </label>
        <button type="submit" className="button">
          Search
        </button>
      </form>
      <Alert message={error} />
      {!loading && events.length === 0 && !error && (
        <p className="muted">No events match. Try another search.</p>
      )}
      <ul className="card-grid">
        {events.map((event) => (
          <li key={event.id}>
            <EventCard event={event} />
          </li>
        ))}
      </ul>
      {loading && <p className="muted">Loading events…</p>}
      {next && !loading && (
        <button type="button" className="button button-secondary" onClick={() => void load(next)}>
          More events
        </button>
      )}
    </section>
  );
}

/**
 * The chosen days as the API's instants: from the start of `from` to the end of `to` (so "to"
 * includes its day), both in the buyer's time zone.
 */
function dateRange(from: string, to: string): { from?: string; to?: string } | { problem: string } {
  const start = from ? localMidnight(from, 0) : undefined;
  const end = to ? localMidnight(to, 1) : undefined;
  if (start === null || end === null) return { problem: 'Please enter dates as year-month-day.' };
  if (start && end && start >= end) return { problem: 'The "To" date is before the "From" date.' };
  return { from: start, to: end };
}

/** The instant the day `iso` (yyyy-mm-dd) + `plusDays` begins, here; null for a bad date. */
function localMidnight(iso: string, plusDays: number): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) return null;
  const day = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + plusDays);
  return Number.isNaN(day.getTime()) ? null : day.toISOString();
}

function EventCard({ event }: { event: EventSummary }) {
  const prices = [event.priceCents, ...Object.values(event.sectionPrices)];
  const from = Math.min(...prices);
  const soldOut = event.available === 0;
  return (
    <article className="card event-card">
      <p className="eyebrow">
        <time dateTime={event.startsAt}>{when(event.startsAt)}</time>
        {event.city ? ` · ${event.city}` : ''}
      </p>
      <h2 className="card-title">
        <Link to={`/events/${event.id}`}>{event.name}</Link>
      </h2>
      <p className="card-meta">
        <span>from {money(from, event.currency)}</span>
        <span className={soldOut ? 'badge badge-sold' : 'badge'}>
          {soldOut ? 'Sold out' : `${event.available} left`}
        </span>
      </p>
    </article>
  );
}
