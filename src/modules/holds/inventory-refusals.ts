/**
 * The database's refusals at COMMIT of an inventory move (migration 008): the event's
 * counters move in deferred triggers, so an oversell or a sale of a closed event surfaces as
 * the commit's error rather than as a statement's.
 */
interface DatabaseErrorLike {
  code?: string;
  constraint?: string;
}

/** CHECK (available >= 0) refused the hold: fewer tickets are left than it asked for. */
export function isSoldOutAtCommit(error: unknown): boolean {
  const e = error as DatabaseErrorLike | undefined;
  return e?.code === '23514' && e.constraint === 'events_available_check';
}

/** The sale was refused because the event is no longer published (cancelled meanwhile). */
export function isEventClosedAtCommit(error: unknown): boolean {
  return (error as DatabaseErrorLike | undefined)?.code === 'EV001';
}
