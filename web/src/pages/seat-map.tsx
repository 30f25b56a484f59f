import {
  useId,
  useMemo,
  useState,
  type FocusEvent,
  type KeyboardEvent,
  type MouseEvent,
} from 'react';
import type { SeatLayout } from '../live/apply-seat-statuses';
import { SeatSection, Stage } from '../seat-map/seat-section';
import { mapGeometry } from '../seat-map/seat-map-geometry';
import { findSeat, firstSeatId, seatFrom } from '../seat-map/seat-navigation';
import { useMapView } from '../seat-map/use-map-view';

export type { SeatLayout };
type Seat = SeatLayout['sections'][number]['rows'][number]['seats'][number];

/**
 * The venue as an SVG the buyer can zoom (buttons, wheel, pinch) and drag. Every seat is a
 * checkbox named like "Section A, row 1, seat 3, 25.00 EUR, available"; held and sold seats are
 * disabled. The map is one Tab stop (a roving tabindex): arrow keys move between seats, Space
 * or Enter toggles one, so a keyboard user is not made to Tab through 20,000 seats.
 */
export function SeatMap({
  layout,
  currency,
  selected,
  onToggle,
}: {
  layout: SeatLayout;
  currency: string;
  selected: ReadonlySet<string>;
  onToggle: (seat: Seat) => void;
}) {
  const helpId = useId();
  const shape = shapeOf(layout);
  // Keyed on the venue's shape, not on the layout object (new at every live change), so the
  // seat positions and every unchanged row keep their identity.
  const geometry = useMemo(() => mapGeometry(layout), [shape]);
  const map = useMapView(geometry.width, geometry.height);
  const [activeId, setActiveId] = useState<string | null>(null);
  const active = activeId ?? firstSeatId(layout);

  const onClick = (e: MouseEvent) => {
    const at = seatUnder(e.target);
    if (!at || map.wasDrag()) return;
    setActiveId(at.seat.id);
    if (at.seat.status === 'available') onToggle(at.seat);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const at = seatUnder(e.target);
    if (!at) return;
    if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      if (at.seat.status === 'available') onToggle(at.seat);
      return;
    }
    const next = seatFrom(layout, at, e.key, e.ctrlKey || e.metaKey);
    if (!next) return;
    e.preventDefault();
    setActiveId(next);
    // The map pans to the seat (onFocus below); the page itself stays where it is.
    map.frameRef.current
      ?.querySelector<SVGElement>(`[data-seat-id="${next}"]`)
      ?.focus({ preventScroll: true });
  };
  const onFocus = (e: FocusEvent) => {
    const at = seatUnder(e.target);
    if (!at) return;
    setActiveId(at.seat.id);
    map.showBox((e.target as SVGGraphicsElement).getBBox());
  };
  const seatUnder = (target: EventTarget): ReturnType<typeof findSeat> => {
    const id = (target as Element).closest?.('[data-seat-id]')?.getAttribute('data-seat-id');
    return id ? findSeat(layout, id) : null;
  };

  const { x, y, k } = map.view;
  const transform = `translate(${round(x)} ${round(y)}) scale(${round(k, 4)})`;
  return (
    <div className="seat-map">
      <div className="seat-map-toolbar">
        <p id={helpId} className="muted small">
          Tab into the map, then move between seats with the arrow keys and choose with Space. Drag
          to move the map; zoom with the buttons, the mouse wheel or a pinch.
        </p>
        <div className="zoom-controls" role="group" aria-label="Zoom">
          <ZoomButton label="Zoom in" enabled={map.canZoomIn} onPress={map.zoomIn}>
            +
          </ZoomButton>
          <ZoomButton label="Zoom out" enabled={map.canZoomOut} onPress={map.zoomOut}>
            −
          </ZoomButton>
          <ZoomButton label="Reset zoom" enabled={map.canZoomOut} onPress={map.reset}>
            Reset
          </ZoomButton>
        </div>
      </div>
      <div
        className="seat-map-frame"
        ref={map.frameRef}
        role="group"
        aria-label="Seat map"
        aria-describedby={helpId}
        onClick={onClick}
        onKeyDown={onKeyDown}
        onFocus={onFocus}
      >
        {/* Gives the frame its height and draws the stage; the sections lie over it. */}
        <svg
          className="seat-map-backdrop"
          width="100%"
          height={map.frame.height}
          aria-hidden="true"
        >
          <Stage geometry={geometry} transform={transform} />
        </svg>
        {map.ready &&
          layout.sections.map((section, s) => (
            <SeatSection
              key={section.name}
              section={section}
              box={geometry.sections[s]!}
              transform={transform}
              zoom={k}
              currency={currency}
              selected={selected}
              activeSeatId={active}
            />
          ))}
      </div>
      <ul className="legend" aria-label="Legend">
        <li>
          <span className="swatch seat-available" /> Available
        </li>
        <li>
          <span className="swatch seat-selected" /> Your selection
        </li>
        <li>
          <span className="swatch seat-held" /> Held
        </li>
        <li>
          <span className="swatch seat-sold" /> Sold
        </li>
      </ul>
    </div>
  );
}

/**
 * aria-disabled rather than disabled at the zoom limits: a disabled button drops the keyboard
 * focus of whoever just pressed it.
 */
function ZoomButton({
  label,
  enabled,
  onPress,
  children,
}: {
  label: string;
  enabled: boolean;
  onPress: () => void;
  children: string;
}) {
  return (
    <button
      type="button"
      className="button button-secondary button-small zoom-button"
      aria-label={label}
      title={label}
      aria-disabled={!enabled}
      onClick={() => enabled && onPress()}
    >
      {children}
    </button>
  );
}

/** Names, row labels and seat counts: what the drawing depends on, statuses aside. */
function shapeOf(layout: SeatLayout): string {
  return layout.sections
    .map(
      (s) =>
        `${s.name}:${s.rows.map((r) => `${r.label}/${r.seats.length}/${r.seats.at(-1)?.number ?? 0}`).join(',')}`,
    )
    .join(';');
}

function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}
