import type { SeatLayout } from '../live/apply-seat-statuses';

type Seat = SeatLayout['sections'][number]['rows'][number]['seats'][number];

export interface SeatAt {
  section: number;
  row: number;
  seat: Seat;
  sectionName: string;
  rowLabel: string;
}

/** The seat with this id and where it sits; null when the layout has none. */
export function findSeat(layout: SeatLayout, seatId: string): SeatAt | null {
  for (const [s, section] of layout.sections.entries())
    for (const [r, row] of section.rows.entries())
      for (const seat of row.seats)
        if (seat.id === seatId)
          return { section: s, row: r, seat, sectionName: section.name, rowLabel: row.label };
  return null;
}

/** Where the map's single Tab stop starts: the first available seat, else the first seat. */
export function firstSeatId(layout: SeatLayout): string | null {
  let first: string | null = null;
  for (const section of layout.sections)
    for (const row of section.rows)
      for (const seat of row.seats) {
        first ??= seat.id;
        if (seat.status === 'available') return seat.id;
      }
  return first;
}

/**
 * The seat a key moves to, as in a grid: ←/→ along the row, ↑/↓ to the row before/after (through
 * the sections, in reading order) at the nearest seat number, Home/End to the row's ends,
 * PageUp/PageDown to the previous/next section, Ctrl+Home/End to the first/last seat. Held and
 * sold seats are stops too, so a screen reader hears every seat's status. Null: not a move key.
 */
export function seatFrom(
  layout: SeatLayout,
  at: SeatAt,
  key: string,
  ctrl: boolean,
): string | null {
  const rows = layout.sections.flatMap((section, s) =>
    section.rows.map((row, r) => ({ s, r, seats: row.seats })),
  );
  const here = rows.findIndex((row) => row.s === at.section && row.r === at.row);
  const seats = rows[here]!.seats;
  const index = seats.findIndex((seat) => seat.id === at.seat.id);
  const nearestIn = (row: (typeof rows)[number] | undefined) =>
    row && row.seats.length > 0
      ? row.seats.reduce((best, seat) =>
          Math.abs(seat.number - at.seat.number) < Math.abs(best.number - at.seat.number)
            ? seat
            : best,
        ).id
      : at.seat.id;
  switch (key) {
    case 'ArrowRight':
      return seats[Math.min(index + 1, seats.length - 1)]!.id;
    case 'ArrowLeft':
      return seats[Math.max(index - 1, 0)]!.id;
    case 'ArrowDown':
      return nearestIn(rows[here + 1]);
    case 'ArrowUp':
      return nearestIn(rows[here - 1]);
    case 'PageDown':
      return nearestIn(rows.find((row) => row.s === at.section + 1 && row.r === 0));
    case 'PageUp':
      return nearestIn(rows.find((row) => row.s === at.section - 1 && row.r === 0));
    case 'Home':
      return ctrl ? (rows[0]?.seats[0]?.id ?? at.seat.id) : seats[0]!.id;
    case 'End':
      return ctrl ? (rows.at(-1)?.seats.at(-1)?.id ?? at.seat.id) : seats.at(-1)!.id;
    default:
      return null;
  }
}
