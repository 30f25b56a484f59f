import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { money } from '../../format';
import type { LiveState } from '../../live/event-live-socket';
import type { useEventAvailability } from '../../live/use-event-availability';
import { useCheckInCounts } from '../check-in/use-check-in-counts';
import { downloadAttendeesCsv } from './csv-download';
import type { EventView } from './event-draft';
import type { EventAnalytics } from './sales-series';

// uPlot comes with the charts only, in a chunk of its own.
const SalesCharts = lazy(() => import('./sales-charts').then((m) => ({ default: m.SalesCharts })));

/** Analytics are re-read this long after a sale (one read per burst of sales)… */
const REFRESH_DELAY_MS = 1000;
/** …and once more later: the analytics roll-up has its own consumer, which may lag the live channel. */
const CATCH_UP_DELAY_MS = 5000;

const LIVE_LABEL: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Not live',
};

/**
 * An event's sales as they happen: sold/held/available over WS /events/:id/live (`live`, from
 * useEventAvailability), capacity
 * utilization, and the hourly sales and revenue from GET /events/:id/analytics, read again
 * shortly after each change. Plus the attendee list as CSV.
 */
export function SalesDashboard({
  event,
  live: { counts, state },
}: {
  event: EventView;
  live: ReturnType<typeof useEventAvailability>;
}) {
  const live = counts ?? { available: event.available, held: event.held, sold: event.sold };
  const [analytics, setAnalytics] = useState<EventAnalytics | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [csvError, setCsvError] = useState<string | null>(null);
  const [downloading, setDownloading] = useState(false);
  // Doors open: the count moves with every scan, at any door, over the live channel; it is
  // shown against the tickets sold, which move live too.
  const checkIns = useCheckInCounts(event.id);

  const load = useCallback(async () => {
    const { data, error, response } = await api.GET('/api/v1/events/{id}/analytics', {
      params: { path: { id: event.id } },
    });
    if (data) {
      setAnalytics(data);
      setError(null);
    } else setError(problemMessage(error, response));
  }, [event.id]);
  useEffect(() => {
    void load();
  }, [load]);
  useRefreshAfterChange(counts?.sold, load);

  const download = async () => {
    setDownloading(true);
    setCsvError(await downloadAttendeesCsv(event.id));
    setDownloading(false);
  };

  const percent = (n: number) =>
    event.capacity > 0 ? Math.round((n / event.capacity) * 1000) / 10 : 0;

  return (
    <section className="dashboard stack" aria-labelledby="sales-title">
      <div className="dashboard-head">
        <h2 id="sales-title">Sales</h2>
        <span className={`live-state live-${state}`}>{LIVE_LABEL[state]}</span>
      </div>
      <dl className="stat-grid">
        <div className="stat card">
          <dt>Sold</dt>
          <dd>{live.sold.toLocaleString()}</dd>
        </div>
        <div className="stat card">
          <dt>Held</dt>
          <dd>{live.held.toLocaleString()}</dd>
        </div>
        <div className="stat card">
          <dt>Available</dt>
          <dd>{live.available.toLocaleString()}</dd>
        </div>
        <div className="stat card">
          <dt>Checked in</dt>
          <dd>
            {checkIns.counts
              ? `${checkIns.counts.checkedIn.toLocaleString()} / ${live.sold.toLocaleString()}`
              : '…'}{' '}
          </dd>
        </div>
        <div className="stat card">
          <dt>Revenue</dt>
          <dd>{analytics ? money(analytics.revenueCents, event.currency) : '…'}</dd>
        </div>
      </dl>
      <div className="card stack">
        <h3>Capacity utilization</h3>
        <svg
          className="utilization"
          viewBox="0 0 100 4"
          preserveAspectRatio="none"
          aria-hidden="true"
        >
          <rect className="utilization-track" width={100} height={4} />
          <rect className="utilization-sold" width={percent(live.sold)} height={4} />
          <rect
            className="utilization-held"
            x={percent(live.sold)}
            width={percent(live.held)}
            height={4}
          />
        </svg>
        <p role="status">
          {live.sold.toLocaleString()} of {event.capacity.toLocaleString()} sold (
          {percent(live.sold)}%), {live.held.toLocaleString()} held,{' '}
          {live.available.toLocaleString()} available
        </p>
        {analytics && (
          <p className="muted small">
            {analytics.bookings} {analytics.bookings === 1 ? 'booking' : 'bookings'},{' '}
            {analytics.cancellations} cancelled
            {analytics.waitlist !== null ? `, ${analytics.waitlist} on the waitlist` : ''}.
          </p>
        )}
      </div>
      <Alert message={error} />
      <div className="card">
        {!analytics ? (
          <p className="muted">Loading sales…</p>
        ) : analytics.salesByHour.length === 0 ? (
          <p className="muted">No sales yet. The charts appear with the first booking.</p>
        ) : (
          <Suspense fallback={<p className="muted">Loading charts…</p>}>
            <SalesCharts salesByHour={analytics.salesByHour} currency={event.currency} />
          </Suspense>
        )}
      </div>
      <div className="button-row">
        <button
          type="button"
          className="button button-secondary"
          disabled={downloading}
          onClick={() => void download()}
        >
          {downloading ? 'Preparing…' : 'Download attendees (CSV)'}
        </button>
        <Link to={`/organizer/events/${event.id}/check-in`} className="button button-secondary">
          Check tickets in at the door
        </Link>
        <button type="button" className="link-button" onClick={() => void load()}>
          Refresh charts
        </button>
      </div>
      <Alert message={csvError} />
    </section>
  );
}

/**
 * Calls `refresh` shortly after `value` changes (not on its first value), at most once per
 * REFRESH_DELAY_MS however fast it changes, and once more CATCH_UP_DELAY_MS after the last change.
 */
function useRefreshAfterChange(value: number | undefined, refresh: () => Promise<void>) {
  const previous = useRef(value);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const catchUp = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    const before = previous.current;
    previous.current = value;
    if (before === undefined || value === undefined || before === value) return;
    pending.current ??= setTimeout(() => {
      pending.current = undefined;
      void refresh();
    }, REFRESH_DELAY_MS);
    clearTimeout(catchUp.current);
    catchUp.current = setTimeout(() => void refresh(), CATCH_UP_DELAY_MS);
  }, [value, refresh]);
  useEffect(
    () => () => {
      clearTimeout(pending.current);
      clearTimeout(catchUp.current);
    },
    [],
  );
}
