import { useCallback, useMemo, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import {
  EVENT_FIELDS,
  draftOf,
  toPatchBody,
  validateEvent,
  type EventDraft,
  type EventView,
} from './event-draft';
import { EventForm } from './event-form';
import {
  FIX_FIELDS,
  fieldErrorsOf,
  focusFirstInvalid,
  unplacedErrors,
  type FieldErrors,
} from './field-errors';

/** The event's terms, saved with PATCH (only the fields that changed). */
export function EditEvent({
  event,
  onSaved,
}: {
  event: EventView;
  onSaved: (event: EventView) => void;
}) {
  const [draft, setDraft] = useState<EventDraft>(() => draftOf(event));
  const [tried, setTried] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const cancelled = event.status === 'cancelled';
  const check = useCallback(
    (d: EventDraft) =>
      validateEvent(d, { creating: false, startChanged: d.startsAt !== draftOf(event).startsAt }),
    [event],
  );
  const clientErrors = useMemo(() => (tried ? check(draft) : {}), [draft, tried, check]);
  const errors = { ...serverErrors, ...clientErrors };
  const clientInvalid = Object.keys(clientErrors).length > 0;

  const save = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setTried(true);
    setServerErrors({});
    setError(null);
    setInfo(null);
    if (Object.keys(check(draft)).length > 0) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    const body = toPatchBody(draft, event);
    if (!body) return setInfo('Nothing changed.');
    setBusy(true);
    const {
      data,
      error: problem,
      response,
    } = await api.PATCH('/api/v1/events/{id}', {
      params: { path: { id: event.id } },
      body,
    });
    setBusy(false);
    if (data) return onSaved(data);
    const fields = fieldErrorsOf(problem);
    setServerErrors(fields);
    setError(
      [
        problemMessage(problem, response),
        ...unplacedErrors(fields, (f) => EVENT_FIELDS.test(f)),
      ].join(' '),
    );
  };

  return (
    <section aria-labelledby="details-title" className="stack">
      <h2 id="details-title">Details</h2>
      {cancelled && <p className="muted">A cancelled event can no longer be changed.</p>}
      <form className="stack" noValidate onSubmit={(e) => void save(e)}>
        <Alert message={error ?? (tried && clientInvalid ? FIX_FIELDS : null)} />
        <Alert message={info} tone="info" />
        <EventForm
          draft={draft}
          setDraft={setDraft}
          errors={errors}
          creating={false}
          disabled={busy || cancelled}
        />
        {!cancelled && (
          <div className="button-row">
            <button type="submit" className="button" disabled={busy}>
              {busy ? 'Saving…' : 'Save changes'}
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
