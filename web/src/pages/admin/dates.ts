/**
 * A date field's value (yyyy-mm-dd, a day where the user is) as the ISO instant the API
 * filters on: the start of that day, or for an inclusive "to" the start of the next one (the
 * API's `to` is exclusive). Empty: undefined, no filter.
 */
export function dayStart(value: FormDataEntryValue | null): string | undefined {
  return typeof value === 'string' && value ? localMidnight(value, 0) : undefined;
}

export function dayEnd(value: FormDataEntryValue | null): string | undefined {
  return typeof value === 'string' && value ? localMidnight(value, 1) : undefined;
}

function localMidnight(day: string, plusDays: number): string {
  const date = new Date(`${day}T00:00:00`);
  // setDate, not +24 h: a day with a clock change is 23 or 25 hours long.
  date.setDate(date.getDate() + plusDays);
  return date.toISOString();
}
