/** The map's zoom and pan: screen = content × k + (x, y), in CSS pixels of the viewport. */
export interface View {
  x: number;
  y: number;
  k: number;
}

export interface Frame {
  /** The viewport's size in CSS pixels. */
  width: number;
  height: number;
  /** The content's size in map units. */
  contentWidth: number;
  contentHeight: number;
}

/** Zooming in stops when a seat is this many times its natural size. */
export const MAX_ZOOM = 3;

/** The whole map, centred: the scale the viewport was sized for, never above natural size. */
export function homeView(frame: Frame, fit: number): View {
  return clampView(frame, fit, { x: 0, y: 0, k: fit });
}

/**
 * Keeps the view sensible: the scale between the overview (`fit`) and MAX_ZOOM, and the map
 * never dragged out of sight — centred along an axis where it is smaller than the viewport,
 * edge to edge where it is larger.
 */
export function clampView(frame: Frame, fit: number, view: View): View {
  const k = Math.min(Math.max(view.k, fit), Math.max(fit, MAX_ZOOM));
  return {
    k,
    x: clampAxis(view.x, frame.width, frame.contentWidth * k),
    y: clampAxis(view.y, frame.height, frame.contentHeight * k),
  };
}

/** Zooms by `factor` keeping the point (px, py) of the viewport where it is. */
export function zoomAt(
  frame: Frame,
  fit: number,
  view: View,
  factor: number,
  px: number,
  py: number,
) {
  const k = Math.min(Math.max(view.k * factor, fit), Math.max(fit, MAX_ZOOM));
  const ratio = k / view.k;
  return clampView(frame, fit, { k, x: px - (px - view.x) * ratio, y: py - (py - view.y) * ratio });
}

/** The smallest pan that brings the box (in map units) into view with a margin. */
export function reveal(
  frame: Frame,
  fit: number,
  view: View,
  box: { x: number; y: number; width: number; height: number },
): View {
  const margin = 16;
  const left = box.x * view.k + view.x;
  const top = box.y * view.k + view.y;
  const right = left + box.width * view.k;
  const bottom = top + box.height * view.k;
  let { x, y } = view;
  if (left < margin) x += margin - left;
  else if (right > frame.width - margin) x -= right - (frame.width - margin);
  if (top < margin) y += margin - top;
  else if (bottom > frame.height - margin) y -= bottom - (frame.height - margin);
  return x === view.x && y === view.y ? view : clampView(frame, fit, { ...view, x, y });
}

function clampAxis(offset: number, viewport: number, content: number): number {
  if (content <= viewport) return (viewport - content) / 2;
  return Math.min(0, Math.max(viewport - content, offset));
}
