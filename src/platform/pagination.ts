import { Type, type TSchema } from '@sinclair/typebox';
import { AppError } from './errors.js';

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'Opaque; from nextCursor' })),
};

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** Cursors are opaque to clients: base64url JSON of the last item's sort key. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** A page of items plus the cursor of its last row when more rows follow. */
export function toPage<R, V>(
  page: { rows: R[]; hasMore: boolean },
  view: (row: R) => V,
  cursorOf: (row: R) => Record<string, string>,
): { items: V[]; nextCursor: string | null } {
  const last = page.rows.at(-1);
  return {
    items: page.rows.map(view),
    nextCursor: page.hasMore && last ? encodeCursor(cursorOf(last)) : null,
  };
}

const invalidCursor = () =>
  new AppError('VALIDATION_FAILED', 'cursor is not one this server issued', {
    errors: [{ field: 'querystring.cursor', message: 'is not a valid cursor' }],
  });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER = /^[0-9]{1,18}$/;

/**
 * The sort key a cursor holds, each key a string; its `id` a UUID (or, with `idKind:
 * 'integer'`, a non-negative integer), so a forged cursor is a 400 and never reaches the
 * database as a value it cannot compare.
 */
export function decodeCursor<K extends string>(
  cursor: string | undefined,
  keys: readonly K[],
  idKind: 'uuid' | 'integer' = 'uuid',
): Record<K, string> | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof value !== 'object' || value === null) throw invalidCursor();
  const fields = value as Record<string, unknown>;
  if (
    !keys.every((k) => typeof fields[k] === 'string' && !(fields[k] as string).includes('\u0000'))
  ) {
    throw invalidCursor();
  }
  if ('id' in fields && keys.includes('id' as K)) {
    const id = fields.id as string;
    if (!(idKind === 'uuid' ? UUID : INTEGER).test(id)) throw invalidCursor();
  }
  return fields as Record<K, string>;
}

/**
 * Parses a timestamp held in a cursor, refusing nonsense with a 400: what does not parse, and
 * years outside 1–9999 (JavaScript dates reach further than the database's).
 */
export function cursorDate(text: string): Date {
  const date = new Date(text);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) throw invalidCursor();
  return date;
}

/**
 * `newestFirstPage` over rows already in memory (a user's few sessions): newest first by
 * (createdAt, id), after the cursor's position, one page plus whether more follow.
 */
export function newestFirstInMemory<R extends { createdAt: Date; id: string }>(
  rows: R[],
  limit: number,
  before?: { createdAt: Date; id: string },
): { rows: R[]; hasMore: boolean } {
  const newer = (a: R | { createdAt: Date; id: string }, b: { createdAt: Date; id: string }) =>
    a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const ordered = rows
    .filter((row) => !before || newer(row, before) < 0)
    .sort((a, b) => newer(b, a));
  return { rows: ordered.slice(0, limit), hasMore: ordered.length > limit };
}
