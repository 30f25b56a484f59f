import { useCallback, useEffect, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import { when } from '../../format';
import { useEventAvailability } from '../../live/use-event-availability';
import { CancelEventDialog } from './cancel-event-dialog';
import { EditEvent } from './edit-event-form';
import type { EventView } from './event-draft';
import { SalesDashboard } from './sales-dashboard';

/**
 * /organizer/events/:id: one of the organizer's events. Publish a draft, cancel (after a
 * confirmation), watch its sales live, and change its terms.
 */
export function EventManagePage() {
  const { id = '' } = useParams();
  const location = useLocation();
  const [event, setEvent] = useState<EventView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(
    (location.state as { notice?: string } | null)?.notice ?? null,
  );
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  usePageTitle(event ? `Manage ${event.name}` : 'Manage event');
  // Opened here rather than in the dashboard: the cancel dialog also says how many are sold.
  const live = useEventAvailability(id, event !== null && event.status !== 'draft');

  const reload = useCallback(async () => {
    const { data, error, response } = await api.GET('/api/v1/events/{id}', {
      params: { path: { id } },
    });
    if (data) setEvent(data);
    else setLoadError(problemMessage(error, response));
  }, [id]);
  useEffect(() => {
    void reload();
  }, [reload]);

  if (!event) {
    return (
      <section>
        <h1>Manage event</h1>
        {loadError ? <Alert message={loadError} /> : <p className="muted">Loading event…</p>}
        <p>
          <Link to="/organizer">Back to the overview</Link>
        </p>
      </section>
    );
  }

  const act = async (action: 'publish' | 'cancel') => {
    setBusy(true);
    setActionError(null);
    setNotice(null);
    const params = { path: { id } };
    const { data, error, response } =
      action === 'publish'
        ? await api.POST('/api/v1/events/{id}/publish', { params })
        : await api.POST('/api/v1/events/{id}/cancel', { params });
    setBusy(false);
    setConfirming(false);
    if (!data) return setActionError(problemMessage(error, response));
    setEvent(data);
    setNotice(
      action === 'publish'
        ? 'Published: the event is on sale.'
        : 'Cancelled: sales stopped and every confirmed booking is being refunded.',
    );
  };

  return (
    <article className="event-manage stack">
      <header>
        <p className="eyebrow">
          <Link to="/organizer">Organizer</Link> / Event
        </p>
        <h1>{event.name}</h1>
        <p className="card-meta">
          <span className={`badge badge-${event.status}`}>{event.status}</span>
          <time dateTime={event.startsAt}>{when(event.startsAt)}</time>
          {event.city && <span>{event.city}</span>}
          <span>{event.seating === 'reserved' ? 'Reserved seats' : 'General admission'}</span>
        </p>
        <div className="button-row">
          {event.status === 'draft' && (
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => void act('publish')}
            >
              Publish
            </button>
          )}
          {event.status !== 'draft' && <Link to={`/events/${event.id}`}>Open the public page</Link>}
          {event.status !== 'cancelled' && (
            <button
              type="button"
              className="button button-danger-quiet"
              disabled={busy}
              onClick={() => setConfirming(true)}
            >
              Cancel event…
            </button>
          )}
        </div>
        <Alert message={notice} tone="info" />
        <Alert message={actionError} />
      </header>
      <CancelEventDialog
        open={confirming}
        eventName={event.name}
        sold={live.counts?.sold ?? event.sold}
        busy={busy}
        onConfirm={() => void act('cancel')}
        onClose={() => setConfirming(false)}
      />
      {event.status === 'draft' ? (
        <p className="muted">
          A draft is seen by you and admins only. Sales and the live dashboard start once it is
          published.
        </p>
      ) : (
        <SalesDashboard event={event} live={live} />
      )}
      <EditEvent
        key={event.updatedAt}
        event={event}
        onSaved={(saved) => {
          setEvent(saved);
          setNotice('Changes saved.');
        }}
      />
    </article>
  );
}
