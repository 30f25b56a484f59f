import { findSeat } from '../seat-map/seat-navigation';
import { seatPlace } from '../seat-map/seat-place';
import type { SeatLayout } from './apply-seat-statuses';

/** What the buyer is told when seats they had chosen are taken by someone else meanwhile. */
export function takenSeatsMessage(layout: SeatLayout | null, seatIds: string[]): string {
  const places = seatIds.map((seatId) => {
    const at = layout && findSeat(layout, seatId);
    return at ? seatPlace(at.sectionName, at.rowLabel, at.seat.number) : 'A seat';
  });
  if (places.length === 1) {
    return `Sorry, ${places[0]} was just taken by another buyer, so it is no longer in your selection.`;
  }
  return `Sorry, ${places.length} of your seats were just taken by other buyers (${places.join('; ')}), so they are no longer in your selection.`;
}
