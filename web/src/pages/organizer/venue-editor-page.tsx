import { useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import {
  FIX_FIELDS,
  fieldErrorsOf,
  focusFirstInvalid,
  unplacedErrors,
  type FieldErrors,
} from './field-errors';
import { Field } from './form-field';
import { LayoutPreview } from './layout-preview';
import { SectionEditor } from './section-editor';
import {
  LIMITS,
  emptyVenue,
  freshSectionName,
  newSection,
  previewLayout,
  toVenueBody,
  totalSeats,
  validateVenue,
  type VenueDraft,
} from './venue-draft';

const PLACED =
  /^(name|address|city|timezone|sections(\.\d+\.(name|rows(\.\d+\.(label|seats))?))?)$/;

/** /organizer/venues/new: the venue's details and its layout, with the buyer's map as preview. */
export function VenueEditorPage() {
  usePageTitle('New venue');
  const navigate = useNavigate();
  const [draft, setDraft] = useState<VenueDraft>(emptyVenue);
  const [tried, setTried] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Checked as the organizer types once they have tried to save; the API's own errors stay
  // until the next attempt.
  const clientErrors = useMemo(() => (tried ? validateVenue(draft) : {}), [draft, tried]);
  const errors = { ...serverErrors, ...clientErrors };
  const clientInvalid = Object.keys(clientErrors).length > 0;
  const layout = useMemo(() => previewLayout(toVenueBody(draft).sections), [draft]);
  const seats = totalSeats(draft);

  const update = (change: Partial<VenueDraft>) => setDraft((d) => ({ ...d, ...change }));

  const save = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setTried(true);
    setServerErrors({});
    setError(null);
    const invalid = validateVenue(draft);
    if (Object.keys(invalid).length > 0) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    const {
      data,
      error: problem,
      response,
    } = await api.POST('/api/v1/venues', {
      body: toVenueBody(draft),
    });
    setBusy(false);
    if (data) {
      navigate('/organizer', { state: { createdVenue: { id: data.id, name: data.name } } });
      return;
    }
    const fields = fieldErrorsOf(problem);
    setServerErrors(fields);
    const rest = unplacedErrors(fields, (f) => PLACED.test(f));
    setError([problemMessage(problem, response), ...rest].join(' '));
  };

  return (
    <section className="venue-editor">
      <p className="eyebrow">
        <Link to="/organizer">Organizer</Link> / New venue
      </p>
      <h1>New venue</h1>
      <form className="stack" noValidate onSubmit={(e) => void save(e)}>
        <Alert message={error ?? (tried && clientInvalid ? FIX_FIELDS : null)} />
        <div className="card form-grid">
          <Field label="Venue name" error={errors.name}>
            {(c) => (
              <input
                {...c}
                value={draft.name}
                maxLength={200}
                autoComplete="off"
                onChange={(e) => update({ name: e.target.value })}
              />
            )}
          </Field>
          <Field label="Address" error={errors.address}>
            {(c) => (
              <input
                {...c}
                value={draft.address}
                maxLength={500}
                autoComplete="street-address"
                onChange={(e) => update({ address: e.target.value })}
              />
            )}
          </Field>
          <Field label="City" error={errors.city}>
            {(c) => (
              <input
                {...c}
                value={draft.city}
                maxLength={100}
                autoComplete="address-level2"
                onChange={(e) => update({ city: e.target.value })}
              />
            )}
          </Field>
          <Field
            label="Time zone"
            error={errors.timezone}
            hint="Where the venue is, e.g. Europe/Berlin"
          >
            {(c) => (
              <input
                {...c}
                value={draft.timezone}
                maxLength={64}
                onChange={(e) => update({ timezone: e.target.value })}
              />
            )}
          </Field>
        </div>

        <div className="layout-editor">
          <div className="stack">
            <h2>Layout</h2>
            <p className="muted">
              Sections are drawn under the stage in this order; seats are numbered from 1 in each
              row. {seats.toLocaleString()} of at most {LIMITS.totalSeats.toLocaleString()} seats.
            </p>
            {errors.sections && <p className="field-error">{errors.sections}</p>}
            {draft.sections.map((section, i) => (
              <SectionEditor
                key={section.key}
                section={section}
                index={i}
                errors={errors}
                onChange={(changed) =>
                  update({
                    sections: draft.sections.map((s) => (s.key === section.key ? changed : s)),
                  })
                }
                onRemove={() =>
                  update({ sections: draft.sections.filter((s) => s.key !== section.key) })
                }
              />
            ))}
            <p>
              <button
                type="button"
                className="button button-secondary"
                disabled={draft.sections.length >= LIMITS.sections}
                onClick={() =>
                  update({
                    sections: [
                      ...draft.sections,
                      newSection(freshSectionName(draft.sections), 3, 10),
                    ],
                  })
                }
              >
                Add a section
              </button>
            </p>
          </div>
          <LayoutPreview layout={layout} />
        </div>

        <div className="button-row">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Creating…' : 'Create venue'}
          </button>
          <Link to="/organizer">Back to the overview</Link>
        </div>
      </form>
    </section>
  );
}
