import { memo } from 'react';
import type { SeatLayout } from '../live/apply-seat-statuses';
import { money } from '../format';
import { seatPlace } from './seat-place';
import {
  ROW_LABEL_WIDTH,
  SEAT_SIZE,
  seatX,
  type MapGeometry,
  type SectionBox,
} from './seat-map-geometry';

type Section = SeatLayout['sections'][number];

/** Seats drawn smaller than about half their size leave the row and section labels unreadable. */
const OVERVIEW_ZOOM = 0.6;
const BADGE_PX = 14;
type Row = Section['rows'][number];

/**
 * One section as its own `<svg>`, laid over the others (each fills the frame, drawing only its
 * seats): the browser then caches every section's painting separately, and choosing a seat,
 * or a live change, repaints one section rather than all 20,000 seats. Within it a row
 * re-renders only when one of its seats changes status, selection or focus; zooming and
 * panning change the transform alone. Seats carry no handlers; the map listens once for all.
 */
export const SeatSection = memo(function SeatSection({
  section,
  box,
  transform,
  zoom,
  currency,
  selected,
  activeSeatId,
}: {
  section: Section;
  box: SectionBox;
  transform: string;
  /** The current scale: below OVERVIEW_ZOOM the section's name is shown large over its seats. */
  zoom: number;
  currency: string;
  selected: ReadonlySet<string>;
  activeSeatId: string | null;
}) {
  const badge = `Section ${section.name}`;
  // BADGE_PX on screen, smaller when that would not fit across the section (bold: ~0.65 em a letter).
  const badgeSize = Math.min(BADGE_PX / zoom, (box.width * 0.9) / (badge.length * 0.65));
  return (
    <svg className="seat-map-layer" role="group" aria-label={`Section ${section.name}`}>
      <g transform={transform}>
        <text className="section-label" x={box.x} y={box.y + 14} aria-hidden="true">
          Section {section.name}
        </text>
        {section.rows.map((row, r) => (
          <SeatRow
            key={row.label}
            section={section.name}
            row={row}
            box={box}
            y={box.rowY[r]!}
            currency={currency}
            selectedKey={selectedIn(row, selected)}
            activeSeatId={activeSeatId !== null && has(row, activeSeatId) ? activeSeatId : null}
          />
        ))}
        {zoom < OVERVIEW_ZOOM && (
          <text
            className="section-badge"
            x={box.x + box.width / 2}
            y={box.y + box.height / 2}
            fontSize={badgeSize}
            strokeWidth={badgeSize / 3}
            textAnchor="middle"
            dominantBaseline="middle"
            aria-hidden="true"
          >
            {badge}
          </text>
        )}
      </g>
    </svg>
  );
});

/** The stage above the sections, drawn with the same transform. */
export function Stage({ geometry, transform }: { geometry: MapGeometry; transform: string }) {
  const width = geometry.width - ROW_LABEL_WIDTH - 8;
  const height = geometry.stageHeight;
  return (
    <g transform={transform}>
      <rect className="stage" x={ROW_LABEL_WIDTH} y={4} width={width} height={height} rx={4} />
      <text
        className="stage-label"
        x={ROW_LABEL_WIDTH + width / 2}
        y={4 + height / 2}
        fontSize={Math.max(12, height * 0.55)}
        textAnchor="middle"
        dominantBaseline="central"
      >
        Stage
      </text>
    </g>
  );
}

const SeatRow = memo(function SeatRow({
  section,
  row,
  box,
  y,
  currency,
  selectedKey,
  activeSeatId,
}: {
  section: string;
  row: Row;
  box: SectionBox;
  y: number;
  currency: string;
  /** The row's selected seat ids joined: a string, so an unchanged selection compares equal. */
  selectedKey: string;
  activeSeatId: string | null;
}) {
  const chosen = selectedKey === '' ? [] : selectedKey.split(',');
  return (
    <g>
      <text className="row-label" x={box.x} y={y + 15} aria-hidden="true">
        {row.label}
      </text>
      {row.seats.map((seat) => {
        const isSelected = chosen.includes(seat.id);
        return (
          <rect
            key={seat.id}
            className={`seat seat-${isSelected ? 'selected' : seat.status}`}
            x={seatX(box, seat.number)}
            y={y}
            width={SEAT_SIZE}
            height={SEAT_SIZE}
            rx={5}
            role="checkbox"
            tabIndex={seat.id === activeSeatId ? 0 : -1}
            aria-checked={isSelected}
            aria-disabled={seat.status === 'available' ? undefined : true}
            aria-label={`${seatPlace(section, row.label, seat.number)}, ${money(seat.priceCents, currency)}, ${seat.status}`}
            data-seat-id={seat.id}
          />
        );
      })}
    </g>
  );
});

function selectedIn(row: Row, selected: ReadonlySet<string>): string {
  if (selected.size === 0) return '';
  let key = '';
  for (const seat of row.seats) if (selected.has(seat.id)) key += key ? `,${seat.id}` : seat.id;
  return key;
}

function has(row: Row, seatId: string): boolean {
  return row.seats.some((seat) => seat.id === seatId);
}
