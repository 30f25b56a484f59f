import type { Dispatch, SetStateAction } from 'react';
import { Field } from './form-field';
import type { EventDraft } from './event-draft';
import { centsOf } from './event-draft';
import type { FieldErrors } from './field-errors';
import { LayoutPreview } from './layout-preview';
import { localTimeZone } from './local-time';
import { useVenueDetail } from './use-venues';
import { VenuePicker } from './venue-picker';
import { previewLayout } from './venue-draft';

/**
 * The event's terms as POST /events and PATCH /events/:id take them. Seating and venue are
 * chosen when creating only (the API does not change them later). Times are the user's
 * local time; the page sends them as ISO instants.
 */
export function EventForm({
  draft,
  setDraft,
  errors,
  creating,
  disabled,
}: {
  draft: EventDraft;
  setDraft: Dispatch<SetStateAction<EventDraft>>;
  errors: FieldErrors;
  creating: boolean;
  disabled: boolean;
}) {
  const update = (change: Partial<EventDraft>) => setDraft((d) => ({ ...d, ...change }));
  const reserved = draft.seating === 'reserved';
  const { venue } = useVenueDetail(draft.venueId);

  return (
    <fieldset className="event-form stack" disabled={disabled}>
      <legend className="visually-hidden">Event details</legend>
      <div className="card form-grid">
        <Field label="Event name" error={errors.name} className="span-2">
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
        <Field label="Description" error={errors.description} className="span-2">
          {(c) => (
            <textarea
              {...c}
              rows={4}
              value={draft.description}
              maxLength={10_000}
              onChange={(e) => update({ description: e.target.value })}
            />
          )}
        </Field>
      </div>

      <div className="card stack">
        <h2>Seating</h2>
        {creating ? (
          <fieldset className="choice">
            {/* The card's heading already says "Seating" on screen. */}
            <legend className="visually-hidden">Seating</legend>
            <label className="radio">
              <input
                type="radio"
                name="seating"
                checked={reserved}
                onChange={() => update({ seating: 'reserved' })}
              />
              <span>Reserved seats at a venue (buyers pick seats on the map)</span>
            </label>
            <label className="radio">
              <input
                type="radio"
                name="seating"
                checked={!reserved}
                onChange={() => update({ seating: 'general' })}
              />
              <span>General admission (a number of tickets)</span>
            </label>
          </fieldset>
        ) : (
          <p>
            {reserved ? 'Reserved seats' : 'General admission'}
            {venue ? ` at ${venue.name}, ${venue.city}` : ''}.
          </p>
        )}
        {creating && (
          <VenuePicker
            value={draft.venueId}
            error={errors.venueId}
            required={reserved}
            onChange={(venueId) => update({ venueId, sectionPrices: {} })}
          />
        )}
        {!reserved && (
          <Field
            label="Capacity (tickets)"
            error={errors.capacity}
            hint={creating ? undefined : 'It cannot drop below the tickets held and sold.'}
          >
            {(c) => (
              <input
                {...c}
                type="number"
                inputMode="numeric"
                min={1}
                max={1_000_000}
                value={draft.capacity}
                onChange={(e) => update({ capacity: e.target.value })}
              />
            )}
          </Field>
        )}
      </div>

      <div className="card form-grid">
        <h2 className="span-2">When</h2>
        <p className="muted small span-2">Times are in your time zone ({localTimeZone}).</p>
        <Field label="Starts" error={errors.startsAt}>
          {(c) => (
            <input
              {...c}
              type="datetime-local"
              value={draft.startsAt}
              onChange={(e) => update({ startsAt: e.target.value })}
            />
          )}
        </Field>
        <Field label="Ends" error={errors.endsAt}>
          {(c) => (
            <input
              {...c}
              type="datetime-local"
              value={draft.endsAt}
              onChange={(e) => update({ endsAt: e.target.value })}
            />
          )}
        </Field>
        <Field label="Sales open" error={errors.salesStartAt} hint="Empty: as soon as published">
          {(c) => (
            <input
              {...c}
              type="datetime-local"
              value={draft.salesStartAt}
              onChange={(e) => update({ salesStartAt: e.target.value })}
            />
          )}
        </Field>
        <Field label="Sales close" error={errors.salesEndAt} hint="Empty: until the event ends">
          {(c) => (
            <input
              {...c}
              type="datetime-local"
              value={draft.salesEndAt}
              onChange={(e) => update({ salesEndAt: e.target.value })}
            />
          )}
        </Field>
      </div>

      <div className="card form-grid">
        <h2 className="span-2">Tickets</h2>
        <Field label="Price" error={errors.priceCents}>
          {(c) => (
            <input
              {...c}
              inputMode="decimal"
              value={draft.price}
              onChange={(e) => update({ price: e.target.value })}
            />
          )}
        </Field>
        <Field label="Currency" error={errors.currency}>
          {(c) => (
            <input
              {...c}
              value={draft.currency}
              maxLength={3}
              autoCapitalize="characters"
              onChange={(e) => update({ currency: e.target.value.toUpperCase() })}
            />
          )}
        </Field>
        <Field label="Tickets per person, at most" error={errors.maxTicketsPerUser}>
          {(c) => (
            <input
              {...c}
              type="number"
              inputMode="numeric"
              min={1}
              max={100}
              value={draft.maxTicketsPerUser}
              onChange={(e) => update({ maxTicketsPerUser: e.target.value })}
            />
          )}
        </Field>
        {reserved && venue && (
          <fieldset className="span-2 section-prices">
            <legend>Price per section</legend>
            <p className="muted small">Empty: the price above.</p>
            <div className="form-grid">
              {venue.sections.map((section) => (
                <Field
                  key={section.name}
                  label={`Price in ${section.name}`}
                  error={errors[`sectionPrices.${section.name}`]}
                >
                  {(c) => (
                    <input
                      {...c}
                      inputMode="decimal"
                      placeholder={draft.price}
                      value={draft.sectionPrices[section.name] ?? ''}
                      onChange={(e) =>
                        update({
                          sectionPrices: { ...draft.sectionPrices, [section.name]: e.target.value },
                        })
                      }
                    />
                  )}
                </Field>
              ))}
            </div>
          </fieldset>
        )}
      </div>

      {reserved && venue && (
        <LayoutPreview
          title={`Preview: ${venue.name} as buyers will see it`}
          currency={draft.currency}
          layout={previewLayout(venue.sections, (section) => {
            const own = draft.sectionPrices[section]?.trim();
            return (own ? centsOf(own) : null) ?? centsOf(draft.price) ?? 0;
          })}
        />
      )}
    </fieldset>
  );
}
