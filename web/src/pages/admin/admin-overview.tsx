import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, type paths } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import { when } from '../../format';
import { dayEnd, dayStart } from './dates';

type Analytics =
  paths['/api/v1/admin/analytics']['get']['responses'][200]['content']['application/json'];

/** Amounts of all events together: the API sums minor units across currencies. */
const amount = (cents: number) => (cents / 100).toFixed(2);
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;

/** `/admin`: platform totals over a date range (default: the API's last 30 days). */
export function AdminOverview() {
  usePageTitle('Admin overview');
  const [range, setRange] = useState<{ from?: string; to?: string }>({});
  const [analytics, setAnalytics] = useState<Analytics | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    void (async () => {
      const { data, error, response } = await api.GET('/api/v1/admin/analytics', {
        params: { query: range },
      });
      if (!current) return;
      setError(data ? null : problemMessage(error, response));
      if (data) setAnalytics(data);
    })();
    return () => {
      current = false;
    };
  }, [range]);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setRange({ from: dayStart(form.get('from')), to: dayEnd(form.get('to')) });
  };

  return (
    <>
      <h2>Overview</h2>
      <form className="filters" onSubmit={submit}>
        <label>
          <span>From</span>
          <input name="from" type="date" />
        </label>
        <label>
          <span>To (inclusive)</span>
          <input name="to" type="date" />
        </label>
        <button type="submit" className="button">
          Show
        </button>
      </form>
      <Alert message={error} />
      {!analytics && !error && <p className="muted">Loading…</p>}
      {analytics && <Figures analytics={analytics} />}
    </>
  );
}

function Figures({ analytics }: { analytics: Analytics }) {
  const { totals, range } = analytics;
  const stats: Array<[string, string]> = [
    ['Bookings', String(totals.bookings)],
    ['Tickets sold', String(totals.ticketsSold)],
    ['Revenue', amount(totals.revenueCents)],
    ['Cancellations', String(totals.cancellations)],
    ['Cancellation rate', percent(totals.cancellationRate)],
    ['Refunded', amount(totals.refundedCents)],
  ];
  return (
    <>
      <p className="muted small">
        <time dateTime={range.from}>{when(range.from)}</time> to{' '}
        <time dateTime={range.to}>{when(range.to)}</time>; amounts in the events’ currencies.
      </p>
      <dl className="stats">
        {stats.map(([label, value]) => (
          <div key={label} className="card stat">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h3>Top events</h3>
      {analytics.topEvents.length === 0 ? (
        <p className="muted">No sales in this range.</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Bookings</th>
              <th scope="col">Tickets</th>
              <th scope="col">Revenue</th>
              <th scope="col">Cancellations</th>
            </tr>
          </thead>
          <tbody>
            {analytics.topEvents.map((e) => (
              <tr key={e.eventId}>
                <td data-label="Event">
                  <Link to={`/events/${e.eventId}`}>{e.name}</Link>
                </td>
                <td data-label="Bookings">{e.bookings}</td>
                <td data-label="Tickets">{e.ticketsSold}</td>
                <td data-label="Revenue">{amount(e.revenueCents)}</td>
                <td data-label="Cancellations">{e.cancellations}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Utilization</h3>
      {analytics.utilization.length === 0 ? (
        <p className="muted">No events yet.</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Sold</th>
              <th scope="col">Held</th>
              <th scope="col">Capacity</th>
              <th scope="col">Utilization</th>
            </tr>
          </thead>
          <tbody>
            {analytics.utilization.map((e) => (
              <tr key={e.eventId}>
                <td data-label="Event">
                  <Link to={`/events/${e.eventId}`}>{e.name}</Link>
                </td>
                <td data-label="Status">{e.status}</td>
                <td data-label="Sold">{e.sold}</td>
                <td data-label="Held">{e.held}</td>
                <td data-label="Capacity">{e.capacity}</td>
                <td data-label="Utilization">{percent(e.utilization)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
