import { useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import {
  EVENT_FIELDS,
  newEventDraft,
  toCreateBody,
  validateEvent,
  type EventDraft,
} from './event-draft';
import { EventForm } from './event-form';
import {
  FIX_FIELDS,
  fieldErrorsOf,
  focusFirstInvalid,
  unplacedErrors,
  type FieldErrors,
} from './field-errors';

/** /organizer/events/new (`?venue=<id>` preselects a venue): creates the event as a draft. */
export function EventEditorPage() {
  usePageTitle('New event');
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [draft, setDraft] = useState<EventDraft>(() => newEventDraft(params.get('venue') ?? ''));
  const [tried, setTried] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const clientErrors = useMemo(
    () => (tried ? validateEvent(draft, { creating: true, startChanged: true }) : {}),
    [draft, tried],
  );
  const errors = { ...serverErrors, ...clientErrors };
  const clientInvalid = Object.keys(clientErrors).length > 0;

  const save = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setTried(true);
    setServerErrors({});
    setError(null);
    if (Object.keys(validateEvent(draft, { creating: true, startChanged: true })).length > 0) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    const {
      data,
      error: problem,
      response,
    } = await api.POST('/api/v1/events', {
      body: toCreateBody(draft),
    });
    setBusy(false);
    if (data) {
      navigate(`/organizer/events/${data.id}`, {
        state: { notice: 'Draft saved. Buyers see it once you publish it.' },
      });
      return;
    }
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
    <section className="event-editor">
      <p className="eyebrow">
        <Link to="/organizer">Organizer</Link> / New event
      </p>
      <h1>New event</h1>
      <form className="stack" noValidate onSubmit={(e) => void save(e)}>
        <Alert message={error ?? (tried && clientInvalid ? FIX_FIELDS : null)} />
        <EventForm draft={draft} setDraft={setDraft} errors={errors} creating disabled={busy} />
        <div className="button-row">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Saving…' : 'Save draft'}
          </button>
          <Link to="/organizer">Back to the overview</Link>
        </div>
      </form>
    </section>
  );
}
