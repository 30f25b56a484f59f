import { SeatMap, type SeatLayout } from '../seat-map';
import { PREVIEW_MAX_SEATS } from './venue-draft';

const NOTHING_SELECTED: ReadonlySet<string> = new Set();
const ignore = () => undefined;

/**
 * The buyer's seat map (the same SeatMap component) drawn from a layout that is being edited.
 * The map is `inert`: its seats are the buyer's controls, not the organizer's, so they take no
 * focus and are hidden from screen readers; the caption says in words what it shows.
 */
export function LayoutPreview({
  layout,
  currency = 'EUR',
  title = 'Preview: the map as buyers will see it',
}: {
  layout: SeatLayout;
  currency?: string;
  title?: string;
}) {
  const seats = layout.sections.reduce(
    (sum, s) => sum + s.rows.reduce((n, r) => n + r.seats.length, 0),
    0,
  );
  const rows = layout.sections.reduce((sum, s) => sum + s.rows.length, 0);
  const summary = layout.sections
    .map((s) => `${s.name || 'unnamed section'}: ${s.rows.length} rows, ${count(s)} seats`)
    .join('; ');
  return (
    <figure className="layout-preview">
      <figcaption>
        <strong>{title}</strong>
        <span className="muted small">
          {' '}
          {layout.sections.length} {layout.sections.length === 1 ? 'section' : 'sections'}, {rows}{' '}
          {rows === 1 ? 'row' : 'rows'}, {seats.toLocaleString()} seats
          {summary ? ` (${summary})` : ''}.
        </span>
      </figcaption>
      {seats === 0 ? (
        <p className="muted">Add rows with seats to see them here.</p>
      ) : seats > PREVIEW_MAX_SEATS ? (
        <p className="muted">
          Too many seats to draw while editing (over {PREVIEW_MAX_SEATS.toLocaleString()}); the
          event page shows the full map.
        </p>
      ) : (
        <div inert>
          <SeatMap
            layout={layout}
            currency={currency}
            selected={NOTHING_SELECTED}
            onToggle={ignore}
          />
        </div>
      )}
    </figure>
  );
}

function count(section: SeatLayout['sections'][number]): number {
  return section.rows.reduce((n, r) => n + r.seats.length, 0);
}
