import type { KeyboardEvent } from 'react';
import type { paths } from '../api/client';
import { money } from '../format';

export type SeatLayout =
  paths['/api/v1/events/{id}/seats']['get']['responses'][200]['content']['application/json'];
type Seat = SeatLayout['sections'][number]['rows'][number]['seats'][number];

const PITCH = 26;
const SIZE = 20;
const LABEL = 40;
const SECTION_GAP = 36;

/**
 * The venue as an SVG: sections stacked under the stage, rows left to right. Every seat is a
 * checkbox a keyboard reaches with Tab and toggles with Space or Enter, named like
 * "Section A, row 1, seat 3, 25.00 EUR, available"; held and sold seats are disabled.
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
  const widest = Math.max(
    1,
    ...layout.sections.flatMap((s) =>
      s.rows.map((r) => Math.max(0, ...r.seats.map((x) => x.number))),
    ),
  );
  let y = 40;
  const sections = layout.sections.map((section) => {
    const top = y;
    y += 22 + section.rows.length * PITCH + SECTION_GAP;
    return { section, top };
  });
  const width = LABEL + widest * PITCH + 8;

  const keyDown = (seat: Seat) => (e: KeyboardEvent) => {
    if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      if (seat.status === 'available') onToggle(seat);
    }
  };

  return (
    <div className="seat-map-frame">
      <svg
        className="seat-map"
        viewBox={`0 0 ${width} ${y}`}
        width={width}
        height={y}
        role="group"
        aria-label="Seat map"
      >
        <rect className="stage" x={LABEL} y={4} width={width - LABEL - 8} height={20} rx={4} />
        <text
          className="stage-label"
          x={LABEL + (width - LABEL - 8) / 2}
          y={18}
          textAnchor="middle"
        >
          Stage
        </text>
        {sections.map(({ section, top }) => (
          <g key={section.name} role="group" aria-label={`Section ${section.name}`}>
            <text className="section-label" x={0} y={top + 14}>
              Section {section.name}
            </text>
            {section.rows.map((row, r) => {
              const rowY = top + 22 + r * PITCH;
              return (
                <g key={row.label}>
                  <text className="row-label" x={0} y={rowY + 15} aria-hidden="true">
                    {row.label}
                  </text>
                  {row.seats.map((seat) => {
                    const isSelected = selected.has(seat.id);
                    const status = isSelected ? 'selected' : seat.status;
                    const price = money(seat.priceCents, currency);
                    return (
                      <rect
                        key={seat.id}
                        className={`seat seat-${status}`}
                        x={LABEL + (seat.number - 1) * PITCH}
                        y={rowY}
                        width={SIZE}
                        height={SIZE}
                        rx={5}
                        role="checkbox"
                        tabIndex={seat.status === 'available' ? 0 : -1}
                        aria-checked={isSelected}
                        aria-disabled={seat.status !== 'available'}
                        aria-label={`Section ${section.name}, row ${row.label}, seat ${seat.number}, ${price}, ${seat.status}`}
                        data-seat-id={seat.id}
                        onClick={() => seat.status === 'available' && onToggle(seat)}
                        onKeyDown={keyDown(seat)}
                      />
                    );
                  })}
                </g>
              );
            })}
          </g>
        ))}
      </svg>
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
