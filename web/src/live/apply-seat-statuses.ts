import type { paths } from '../api/client';
import type { SeatStatus } from './use-event-live';

export type SeatLayout =
  paths['/api/v1/events/{id}/seats']['get']['responses'][200]['content']['application/json'];

/**
 * The layout with `statuses` applied. Only the rows (and sections) where a seat changed are new
 * objects; the others keep their identity, so the seat map re-renders just those rows. With
 * nothing changed the same layout comes back.
 */
export function applySeatStatuses(
  layout: SeatLayout,
  statuses: ReadonlyMap<string, SeatStatus>,
): SeatLayout {
  if (statuses.size === 0) return layout;
  let layoutChanged = false;
  const sections = layout.sections.map((section) => {
    let sectionChanged = false;
    const rows = section.rows.map((row) => {
      if (!row.seats.some((seat) => differs(seat, statuses))) return row;
      sectionChanged = true;
      return {
        ...row,
        seats: row.seats.map((seat) =>
          differs(seat, statuses) ? { ...seat, status: statuses.get(seat.id)! } : seat,
        ),
      };
    });
    if (!sectionChanged) return section;
    layoutChanged = true;
    return { ...section, rows };
  });
  return layoutChanged ? { ...layout, sections } : layout;
}

function differs(
  seat: { id: string; status: SeatStatus },
  statuses: ReadonlyMap<string, SeatStatus>,
): boolean {
  const status = statuses.get(seat.id);
  return status !== undefined && status !== seat.status;
}
