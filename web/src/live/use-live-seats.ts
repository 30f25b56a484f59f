import { useCallback, useRef, useState } from 'react';
import { applySeatStatuses, type SeatLayout } from './apply-seat-statuses';
import { takenSeatsMessage } from './taken-seats-message';
import { useEventLive, type SeatChange, type SeatStatus } from './use-event-live';

/**
 * The event's seat map and the buyer's selection, kept live: the feed's statuses are applied to
 * the layout (also to one that loads after the feed spoke), and a chosen seat another buyer
 * takes leaves the selection, with `onTaken` told what to say. The buyer's own hold — and a
 * hold request under way — is announced with `holding`, so its seats turning "held" are not
 * mistaken for someone else's.
 */
export function useLiveSeats(eventId: string, onTaken: (message: string) => void) {
  const [layout, setLayout] = useState<SeatLayout | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const liveStatuses = useRef(new Map<string, SeatStatus>());
  const mine = useRef<ReadonlySet<string>>(new Set());
  const latest = useRef({ layout, selected, onTaken });
  latest.current = { layout, selected, onTaken };

  const onSeats = useCallback((changes: SeatChange[], snapshot: boolean) => {
    if (snapshot) liveStatuses.current = new Map();
    const batch = new Map(changes.map((c) => [c.seatId, c.status]));
    for (const [seatId, status] of batch) liveStatuses.current.set(seatId, status);
    setLayout((current) => current && applySeatStatuses(current, batch));
    const taken = [...latest.current.selected].filter(
      (seatId) => (batch.get(seatId) ?? 'available') !== 'available' && !mine.current.has(seatId),
    );
    if (taken.length === 0) return;
    setSelected((current) => new Set([...current].filter((seatId) => !taken.includes(seatId))));
    latest.current.onTaken(takenSeatsMessage(latest.current.layout, taken));
  }, []);
  const live = useEventLive(eventId, onSeats);

  return {
    layout,
    selected,
    ...live,
    /** A freshly read layout, with what the feed has said since applied. */
    load: useCallback((fresh: SeatLayout) => {
      setLayout(applySeatStatuses(fresh, liveStatuses.current));
    }, []),
    toggle: useCallback(
      (seat: { id: string }) =>
        setSelected((current) => {
          const next = new Set(current);
          if (!next.delete(seat.id)) next.add(seat.id);
          return next;
        }),
      [],
    ),
    clearSelection: useCallback(() => setSelected(new Set()), []),
    /** The seats of the buyer's own hold (or hold request); an empty list when there is none. */
    holding: useCallback((seatIds: readonly string[]) => {
      mine.current = new Set(seatIds);
    }, []),
  };
}
