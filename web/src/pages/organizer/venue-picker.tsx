import { Link } from 'react-router';
import { Field } from './form-field';
import { useVenues } from './use-venues';

/** Any venue (organizers may use every venue), a hundred at a time, with a way to make one. */
export function VenuePicker({
  value,
  error,
  required,
  onChange,
}: {
  value: string;
  error?: string;
  required: boolean;
  onChange: (venueId: string) => void;
}) {
  const { venues, error: loadError, more } = useVenues(false);
  return (
    <div className="stack">
      <Field
        label={required ? 'Venue' : 'Venue (optional: gives the event its city)'}
        error={error ?? loadError ?? undefined}
        hint={
          <>
            Not listed? <Link to="/organizer/venues/new">Create a venue</Link> first.
          </>
        }
      >
        {(c) => (
          <select {...c} value={value} onChange={(e) => onChange(e.target.value)}>
            <option value="">{venues ? 'Choose a venue' : 'Loading venues…'}</option>
            {venues?.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name}, {v.city} ({v.capacity.toLocaleString()} seats)
              </option>
            ))}
          </select>
        )}
      </Field>
      {more && (
        <p>
          <button type="button" className="link-button" onClick={more}>
            More venues
          </button>
        </p>
      )}
    </div>
  );
}
