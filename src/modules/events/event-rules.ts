import { AppError, forbidden, notFound, type FieldError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { EventLookup, EventRow } from './event.repository.js';
import type { EventView } from './event.schemas.js';
import { toEventView } from './event.view.js';

/** The rules an event's terms obey, shared by creating and changing one. */

export function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${field} ${message}`, { errors: [{ field, message }] });
}

export function assertStartsInFuture(startsAt: string): void {
  if (new Date(startsAt).getTime() <= Date.now())
    throw invalid('startsAt', 'must be in the future');
}

/** An event ends after it starts; sales close after they open and no later than the end. */
export function assertTimes(times: {
  startsAt: string;
  endsAt: string;
  salesStartAt: string | null;
  salesEndAt: string | null;
}): void {
  const errors: FieldError[] = [];
  const ms = (t: string) => new Date(t).getTime();
  if (ms(times.endsAt) <= ms(times.startsAt)) {
    errors.push({ field: 'endsAt', message: 'must be after startsAt' });
  }
  if (times.salesStartAt && times.salesEndAt && ms(times.salesEndAt) <= ms(times.salesStartAt)) {
    errors.push({ field: 'salesEndAt', message: 'must be after salesStartAt' });
  }
  if (times.salesEndAt && ms(times.salesEndAt) > ms(times.endsAt)) {
    errors.push({ field: 'salesEndAt', message: 'must not be after endsAt' });
  }
  if (errors.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      errors.map((e) => `${e.field} ${e.message}`).join('; '),
      { errors },
    );
  }
}

/** Section prices name sections of the venue, nothing else. */
export function assertSectionsExist(
  sectionPrices: Record<string, number> | undefined,
  venueSections: string[],
): void {
  if (!sectionPrices) return;
  const names = new Set(venueSections);
  const unknown = Object.keys(sectionPrices).filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new AppError('VALIDATION_FAILED', `Unknown sections: ${unknown.join(', ')}`, {
      errors: unknown.map((name) => ({
        field: `sectionPrices.${name}`,
        message: 'is not a section of the venue',
      })),
    });
  }
}

export const cancelledCannotChange = () =>
  new AppError('INVALID_STATE', 'A cancelled event cannot be changed');

/** Drafts are visible to their organizer and admins only. */
export function canSee(viewer: Principal | undefined, event: EventView): boolean {
  if (event.status !== 'draft') return true;
  return viewer !== undefined && (viewer.role === 'admin' || viewer.userId === event.organizerId);
}

/** What the audit log keeps of an event: its terms, not its moving counters or timestamps. */
export function auditedFields(row: EventRow): Record<string, unknown> {
  const {
    id: _id,
    available: _available,
    held: _held,
    sold: _sold,
    createdAt: _createdAt,
    updatedAt: _updatedAt,
    publishedAt: _publishedAt,
    cancelledAt: _cancelledAt,
    ...terms
  } = toEventView(row);
  return terms;
}

/** Who may change an event: its organizer or an admin. */
export class EventOwnership {
  constructor(private readonly events: EventLookup) {}

  /** The event if the actor may change it; someone else's draft is not even acknowledged. */
  async ownedEvent(actor: Principal, id: string): Promise<EventRow> {
    const row = await this.events.findById(id);
    if (!row) throw notFound('Event');
    if (actor.role === 'admin' || row.organizer_id === actor.userId) return row;
    if (row.status === 'draft') throw notFound('Event');
    throw forbidden('Only the organizer of this event or an admin can change it');
  }
}
