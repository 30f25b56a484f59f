import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { Navigate, useParams } from 'react-router';
import { api, type paths } from '../../api/client';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import { when } from '../../format';
import { useSessionUser } from '../../session/session';
import { CameraScanner } from './camera-scanner';
import { checkedIn, refused, type ScanResult } from './scan-result';
import { ScanResultPanel } from './scan-result-panel';
import { useCheckInCounts } from './use-check-in-counts';
import './check-in.css';

type EventDetail =
  paths['/api/v1/events/{id}']['get']['responses'][200]['content']['application/json'];

/**
 * `/organizer/events/:id/check-in`: the door. A code typed, sent by a USB scanner (which types
 * it and presses Enter) or read by the camera is checked in at once; the answer is shown big,
 * and the count of checked-in tickets follows every door's scans live.
 */
export function CheckInPage() {
  const { id = '' } = useParams();
  const user = useSessionUser();
  if (!user) {
    const next = `/organizer/events/${id}/check-in`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <CheckInDesk eventId={id} />;
}

function CheckInDesk({ eventId }: { eventId: string }) {
  const [event, setEvent] = useState<EventDetail | null>(null);
  const { counts, error } = useCheckInCounts(eventId);
  const [result, setResult] = useState<ScanResult | null>(null);
  const [lastCode, setLastCode] = useState('');
  const [scans, setScans] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  usePageTitle(event ? `Check-in: ${event.name}` : 'Check-in');

  useEffect(() => {
    void api
      .GET('/api/v1/events/{id}', { params: { path: { id: eventId } } })
      .then(({ data }) => data && setEvent(data));
  }, [eventId]);

  const scan = useCallback(
    async (raw: string) => {
      const code = raw.trim();
      if (!code) return;
      const { data, error, response } = await api.POST('/api/v1/events/{id}/check-ins', {
        params: { path: { id: eventId } },
        body: { code },
      });
      setResult(data ? checkedIn(data) : refused(error, response));
      setLastCode(code);
      setScans((n) => n + 1);
      input.current?.focus();
    },
    [eventId],
  );

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const code = String(new FormData(form).get('code') ?? '');
    // Cleared at once: a USB scanner may already be typing the next code.
    form.reset();
    void scan(code);
  };

  return (
    <section className="checkin">
      <h1>Check-in{event ? `: ${event.name}` : ''}</h1>
      {event && (
        <p className="muted">
          <time dateTime={event.startsAt}>{when(event.startsAt)}</time>
        </p>
      )}
      <Alert message={error} />
      <p className="checkin-count">
        {counts ? (
          <>
            <strong>{counts.checkedIn}</strong> of {counts.total} checked in
          </>
        ) : (
          'Counting tickets…'
        )}
        <span className="muted"> · {scans} scans on this device</span>
      </p>
      <form className="checkin-form card" onSubmit={submit}>
        <label>
          <span>Ticket code</span>
          <input
            ref={input}
            name="code"
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            autoFocus
            required
          />
        </label>
        <button type="submit" className="button">
          Check in
        </button>
      </form>
      <ScanResultPanel result={result} code={lastCode} />
      <CameraScanner onCode={(code) => void scan(code)} />
    </section>
  );
}
