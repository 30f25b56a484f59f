import type { paths } from '../../api/client';
import type { SeatLayout } from '../seat-map';
import type { FieldErrors } from './field-errors';

export type CreateVenueBody =
  paths['/api/v1/venues']['post']['requestBody']['content']['application/json'];

// The limits POST /venues enforces (src/modules/venues/venue.schemas.ts), checked here first
// so the organizer sees them at the field rather than after a round trip.
export const LIMITS = {
  sections: 200,
  rowsPerSection: 500,
  seatsPerRow: 1000,
  totalSeats: 100_000,
  sectionName: 100,
  rowLabel: 20,
} as const;

/** The preview draws every seat: past this many it would slow the editor down. */
export const PREVIEW_MAX_SEATS = 5000;

/** Inputs stay strings while edited, so a field can be empty for a moment. */
export interface RowDraft {
  key: number;
  label: string;
  seats: string;
}
export interface SectionDraft {
  key: number;
  name: string;
  rows: RowDraft[];
}
export interface VenueDraft {
  name: string;
  address: string;
  city: string;
  timezone: string;
  sections: SectionDraft[];
}

let lastKey = 0;
/** A React key for a new section or row (their names change while typed; keys must not). */
export const nextKey = () => ++lastKey;

/** 0 → A, 25 → Z, 26 → AA, 27 → AB: the labels venues print on row ends. */
export function rowLabel(index: number): string {
  let label = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    label = String.fromCharCode(65 + ((n - 1) % 26)) + label;
  }
  return label;
}

/** `count` more rows of `seats` seats, labelled after the section's rows, skipping used labels. */
export function withRowsAdded(section: SectionDraft, count: number, seats: number): SectionDraft {
  const used = new Set(section.rows.map((r) => r.label));
  const rows = [...section.rows];
  for (let i = 0; rows.length < section.rows.length + count; i++) {
    const label = rowLabel(i);
    if (used.has(label)) continue;
    used.add(label);
    rows.push({ key: nextKey(), label, seats: String(seats) });
  }
  return { ...section, rows };
}

export function newSection(name: string, rows = 0, seats = 10): SectionDraft {
  return withRowsAdded({ key: nextKey(), name, rows: [] }, rows, seats);
}

/** A new section's name that the venue does not use yet: "Section 2", "Section 3"… */
export function freshSectionName(sections: SectionDraft[]): string {
  const names = new Set(sections.map((s) => s.name));
  let n = sections.length + 1;
  while (names.has(`Section ${n}`)) n++;
  return `Section ${n}`;
}

export function emptyVenue(): VenueDraft {
  return {
    name: '',
    address: '',
    city: '',
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    sections: [newSection('Stalls', 5, 12)],
  };
}

const seatCount = (value: string) => (/^\d+$/.test(value.trim()) ? Number(value) : NaN);

export function totalSeats(draft: VenueDraft): number {
  return draft.sections.reduce(
    (sum, s) => sum + s.rows.reduce((n, r) => n + (seatCount(r.seats) || 0), 0),
    0,
  );
}

/** What POST /venues would refuse, keyed by the field paths the API uses in its problems. */
export function validateVenue(draft: VenueDraft): FieldErrors {
  const errors: FieldErrors = {};
  const required = (field: 'name' | 'address' | 'city' | 'timezone', what: string) => {
    if (!draft[field].trim()) errors[field] = `Enter the ${what}.`;
  };
  required('name', 'venue’s name');
  required('address', 'address');
  required('city', 'city');
  required('timezone', 'time zone');
  if (draft.timezone.trim() && !isTimeZone(draft.timezone.trim())) {
    errors.timezone = 'Use an IANA time zone such as Europe/Berlin.';
  }
  if (draft.sections.length === 0) errors.sections = 'Add at least one section.';
  if (draft.sections.length > LIMITS.sections) {
    errors.sections = `A venue has at most ${LIMITS.sections} sections.`;
  }
  const sectionNames = new Set<string>();
  draft.sections.forEach((section, i) => {
    const name = section.name.trim();
    if (!name) errors[`sections.${i}.name`] = 'Name the section.';
    else if (name.length > LIMITS.sectionName)
      errors[`sections.${i}.name`] = `At most ${LIMITS.sectionName} characters.`;
    else if (sectionNames.has(name))
      errors[`sections.${i}.name`] = 'Another section has this name.';
    sectionNames.add(name);
    if (section.rows.length === 0) errors[`sections.${i}.rows`] = 'Add at least one row.';
    if (section.rows.length > LIMITS.rowsPerSection) {
      errors[`sections.${i}.rows`] = `A section has at most ${LIMITS.rowsPerSection} rows.`;
    }
    const labels = new Set<string>();
    section.rows.forEach((row, j) => {
      const field = `sections.${i}.rows.${j}`;
      const label = row.label.trim();
      if (!label) errors[`${field}.label`] = 'Label the row.';
      else if (label.length > LIMITS.rowLabel)
        errors[`${field}.label`] = `At most ${LIMITS.rowLabel} characters.`;
      else if (labels.has(label)) errors[`${field}.label`] = 'Another row has this label.';
      labels.add(label);
      const seats = seatCount(row.seats);
      if (!(seats >= 1 && seats <= LIMITS.seatsPerRow)) {
        errors[`${field}.seats`] = `A whole number from 1 to ${LIMITS.seatsPerRow}.`;
      }
    });
  });
  const total = totalSeats(draft);
  if (total > LIMITS.totalSeats) {
    errors.sections = `${total.toLocaleString()} seats: a venue holds at most ${LIMITS.totalSeats.toLocaleString()}.`;
  }
  return errors;
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function toVenueBody(draft: VenueDraft): CreateVenueBody {
  return {
    name: draft.name.trim(),
    address: draft.address.trim(),
    city: draft.city.trim(),
    timezone: draft.timezone.trim(),
    sections: draft.sections.map((s) => ({
      name: s.name.trim(),
      rows: s.rows.map((r) => ({ label: r.label.trim(), seats: seatCount(r.seats) })),
    })),
  };
}

/**
 * A venue layout (sections of rows of seat counts, as GET /venues/:id answers) as the seat map
 * draws it: every seat available, at its section's price. Ids are made up: nothing is booked
 * from a preview. Rows whose count is not valid yet are left out.
 */
export function previewLayout(
  sections: Array<{ name: string; rows: Array<{ label: string; seats: number }> }>,
  priceOf: (section: string) => number = () => 0,
): SeatLayout {
  // The map keys sections by name and rows by label: a duplicate (refused on saving anyway)
  // is drawn with a suffix rather than confusing the drawing.
  const sectionName = uniqueNames();
  return {
    eventId: 'preview',
    seating: 'reserved',
    sections: sections.map((section, i) => ({
      name: sectionName(section.name),
      rows: section.rows
        .filter((row) => row.seats >= 1 && row.seats <= LIMITS.seatsPerRow)
        .map((row, j, all) => ({
          label:
            all.findIndex((r) => r.label === row.label) === j
              ? row.label
              : `${row.label} (${j + 1})`,
          seats: Array.from({ length: row.seats }, (_, k) => ({
            id: `preview-${i}-${j}-${k + 1}`,
            number: k + 1,
            status: 'available' as const,
            priceCents: priceOf(section.name),
          })),
        })),
    })),
  };
}

function uniqueNames(): (name: string) => string {
  const seen = new Map<string, number>();
  return (name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} (${n})`;
  };
}
