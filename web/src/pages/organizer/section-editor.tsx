import { useState } from 'react';
import { Field } from './form-field';
import type { FieldErrors } from './field-errors';
import { LIMITS, withRowsAdded, type SectionDraft } from './venue-draft';

/**
 * One section of the layout: its name, its rows (label and seat count each) and a bulk
 * "add N rows of M seats". `errors` are keyed by the API's paths, `sections.<index>.…`.
 */
export function SectionEditor({
  section,
  index,
  errors,
  onChange,
  onRemove,
}: {
  section: SectionDraft;
  index: number;
  errors: FieldErrors;
  onChange: (section: SectionDraft) => void;
  onRemove: () => void;
}) {
  const [bulkRows, setBulkRows] = useState('5');
  const [bulkSeats, setBulkSeats] = useState('10');
  const field = `sections.${index}`;
  const title = section.name.trim() || `Section ${index + 1}`;
  const bulkValid =
    isWhole(bulkRows, 1, LIMITS.rowsPerSection) && isWhole(bulkSeats, 1, LIMITS.seatsPerRow);

  const setRow = (key: number, change: Partial<{ label: string; seats: string }>) =>
    onChange({
      ...section,
      rows: section.rows.map((r) => (r.key === key ? { ...r, ...change } : r)),
    });

  return (
    <fieldset className="section-editor card">
      <legend>{title}</legend>
      <div className="section-head">
        <Field label="Section name" error={errors[`${field}.name`]}>
          {(control) => (
            <input
              {...control}
              value={section.name}
              maxLength={LIMITS.sectionName}
              onChange={(e) => onChange({ ...section, name: e.target.value })}
            />
          )}
        </Field>
        <button type="button" className="button button-danger-quiet" onClick={onRemove}>
          Remove section {title}
        </button>
      </div>
      {errors[`${field}.rows`] && <p className="field-error">{errors[`${field}.rows`]}</p>}
      {section.rows.length > 0 && (
        <table className="rows-table">
          <caption className="visually-hidden">Rows of {title}</caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Seats</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {section.rows.map((row, j) => {
              const labelError = errors[`${field}.rows.${j}.label`];
              const seatsError = errors[`${field}.rows.${j}.seats`];
              const name = row.label.trim() || `${j + 1}`;
              return (
                <tr key={row.key}>
                  <td>
                    <input
                      aria-label={`Label of row ${j + 1} in ${title}`}
                      value={row.label}
                      maxLength={LIMITS.rowLabel}
                      aria-invalid={Boolean(labelError)}
                      aria-describedby={labelError ? `row-${row.key}-label-error` : undefined}
                      onChange={(e) => setRow(row.key, { label: e.target.value })}
                    />
                    {labelError && (
                      <p id={`row-${row.key}-label-error`} className="field-error">
                        {labelError}
                      </p>
                    )}
                  </td>
                  <td>
                    <input
                      aria-label={`Seats in row ${name} of ${title}`}
                      type="number"
                      inputMode="numeric"
                      min={1}
                      max={LIMITS.seatsPerRow}
                      value={row.seats}
                      aria-invalid={Boolean(seatsError)}
                      aria-describedby={seatsError ? `row-${row.key}-seats-error` : undefined}
                      onChange={(e) => setRow(row.key, { seats: e.target.value })}
                    />
                    {seatsError && (
                      <p id={`row-${row.key}-seats-error`} className="field-error">
                        {seatsError}
                      </p>
                    )}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      aria-label={`Remove row ${name} of ${title}`}
                      onClick={() =>
                        onChange({
                          ...section,
                          rows: section.rows.filter((r) => r.key !== row.key),
                        })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div className="bulk-rows">
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={() => onChange(withRowsAdded(section, 1, lastSeats(section)))}
        >
          Add a row to {title}
        </button>
        <div className="bulk-rows-form" role="group" aria-label={`Add several rows to ${title}`}>
          <Field label="Rows">
            {(control) => (
              <input
                {...control}
                type="number"
                inputMode="numeric"
                min={1}
                max={LIMITS.rowsPerSection}
                value={bulkRows}
                onChange={(e) => setBulkRows(e.target.value)}
              />
            )}
          </Field>
          <span aria-hidden="true" className="bulk-times">
            ×
          </span>
          <Field label="Seats per row">
            {(control) => (
              <input
                {...control}
                type="number"
                inputMode="numeric"
                min={1}
                max={LIMITS.seatsPerRow}
                value={bulkSeats}
                onChange={(e) => setBulkSeats(e.target.value)}
              />
            )}
          </Field>
          <button
            type="button"
            className="button button-secondary button-small"
            disabled={!bulkValid}
            onClick={() => onChange(withRowsAdded(section, Number(bulkRows), Number(bulkSeats)))}
          >
            Add {bulkValid ? `${bulkRows} rows of ${bulkSeats} seats` : 'rows'}
          </button>
        </div>
      </div>
    </fieldset>
  );
}

function isWhole(value: string, min: number, max: number): boolean {
  const n = Number(value);
  return /^\d+$/.test(value.trim()) && n >= min && n <= max;
}

/** A new single row copies the last row's seat count: rows of a section are usually alike. */
function lastSeats(section: SectionDraft): number {
  const last = Number(section.rows.at(-1)?.seats);
  return Number.isInteger(last) && last >= 1 && last <= LIMITS.seatsPerRow ? last : 10;
}
