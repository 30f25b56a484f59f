// <input type="datetime-local"> speaks the browser's wall-clock time without an offset; the API
// speaks ISO instants. These two convert between them in the user's own time zone.

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO instant as a datetime-local value, e.g. "2031-05-02T19:30", in local time. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value as an ISO instant; null when empty or not a time. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  // A date-time without an offset is read as local time (ECMAScript's date-time string format).
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export const localTimeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
