import type { SeatLayout } from '../live/apply-seat-statuses';

/** Distance between seat origins, a seat's size and the margins, in map units (px at zoom 1). */
export const PITCH = 26;
export const SEAT_SIZE = 20;
export const ROW_LABEL_WIDTH = 40;
const SECTION_HEADER = 22;
const SECTION_GAP = 36;
/** Room above the first sections: the stage (at least MIN_STAGE_HEIGHT tall) and a gap. */
const STAGE_HEIGHT = 40;
const MIN_STAGE_HEIGHT = 20;
/** A grid of sections about this much wider than tall fits a landscape screen and a phone turned. */
const TARGET_ASPECT = 1.6;

export interface SectionBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Top of each row's seats, by row index. */
  rowY: number[];
}

export interface MapGeometry {
  width: number;
  height: number;
  /** Grows with the venue, so the stage still reads as one in a big map's overview. */
  stageHeight: number;
  sections: SectionBox[];
}

/**
 * Where every section goes: a grid of sections under the stage, as many columns as make the map
 * closest to a landscape rectangle (a small venue stays one column, a 20,000-seat arena
 * spreads out so its overview fits a screen). Seats are placed by number within their row.
 * Depends only on the venue's shape, never on seat statuses.
 */
export function mapGeometry(layout: SeatLayout): MapGeometry {
  if (layout.sections.length === 0) {
    return { width: 200, height: STAGE_HEIGHT, stageHeight: MIN_STAGE_HEIGHT, sections: [] };
  }
  const boxes = layout.sections.map((section) => {
    let widest = 1;
    for (const row of section.rows)
      for (const seat of row.seats) if (seat.number > widest) widest = seat.number;
    return {
      width: ROW_LABEL_WIDTH + widest * PITCH,
      height: SECTION_HEADER + section.rows.length * PITCH,
    };
  });
  let best = placeInColumns(boxes, 1);
  for (let columns = 2; columns <= boxes.length; columns++) {
    const candidate = placeInColumns(boxes, columns);
    if (aspectMiss(candidate) < aspectMiss(best)) best = candidate;
  }
  const stageHeight = Math.max(MIN_STAGE_HEIGHT, Math.round(best.width / 40));
  // The sections were placed under a stage of the smallest height: move them below this one.
  const below = stageHeight - MIN_STAGE_HEIGHT;
  return {
    width: best.width,
    height: best.height + below,
    stageHeight,
    sections: layout.sections.map((section, i) => {
      const { x } = best.origins[i]!;
      const y = best.origins[i]!.y + below;
      return {
        x,
        y,
        width: boxes[i]!.width,
        height: boxes[i]!.height,
        rowY: section.rows.map((_, r) => y + SECTION_HEADER + r * PITCH),
      };
    }),
  };
}

/** A seat's top-left corner within its section. */
export function seatX(section: SectionBox, seatNumber: number): number {
  return section.x + ROW_LABEL_WIDTH + (seatNumber - 1) * PITCH;
}

function placeInColumns(boxes: Array<{ width: number; height: number }>, columns: number) {
  const columnWidths = Array.from({ length: columns }, () => 0);
  const rowHeights: number[] = [];
  boxes.forEach((box, i) => {
    const column = i % columns;
    const row = Math.floor(i / columns);
    columnWidths[column] = Math.max(columnWidths[column]!, box.width);
    rowHeights[row] = Math.max(rowHeights[row] ?? 0, box.height);
  });
  const columnX = offsets(columnWidths, SECTION_GAP, 0);
  const rowY = offsets(rowHeights, SECTION_GAP, STAGE_HEIGHT);
  return {
    origins: boxes.map((_, i) => ({
      x: columnX[i % columns]!,
      y: rowY[Math.floor(i / columns)]!,
    })),
    width: Math.max(1, columnX[columns - 1]! + columnWidths[columns - 1]! + 8),
    height: rowY[rowHeights.length - 1]! + rowHeights[rowHeights.length - 1]! + 8,
  };
}

function offsets(sizes: number[], gap: number, start: number): number[] {
  const result: number[] = [];
  let at = start;
  for (const size of sizes) {
    result.push(at);
    at += size + gap;
  }
  return result;
}

function aspectMiss({ width, height }: { width: number; height: number }): number {
  return Math.abs(Math.log(width / height / TARGET_ASPECT));
}
