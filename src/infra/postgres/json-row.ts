/**
 * A row that a statement returned as JSON (`to_jsonb(row)`, for several rows of several
 * tables in one round trip), with its timestamp columns turned back into Dates as the
 * driver would have parsed them.
 */
export function rowFromJson<T>(json: Record<string, unknown>, dateColumns: readonly string[]): T {
  const row: Record<string, unknown> = { ...json };
  for (const column of dateColumns) {
    const value = row[column];
    row[column] = typeof value === 'string' ? new Date(value) : null;
  }
  return row as T;
}

export const BOOKING_DATE_COLUMNS = [
  'created_at',
  'updated_at',
  'confirmed_at',
  'cancelled_at',
] as const;
export const SAGA_DATE_COLUMNS = [
  'created_at',
  'updated_at',
  'locked_until',
  'finished_at',
] as const;
export const HOLD_DATE_COLUMNS = ['expires_at', 'created_at', 'released_at'] as const;
