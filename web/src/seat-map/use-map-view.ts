import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type RefObject,
} from 'react';
import { clampView, homeView, MAX_ZOOM, reveal, zoomAt, type Frame, type View } from './map-view';

/** A press that moves less than this is a click on a seat, not a drag of the map. */
const DRAG_THRESHOLD = 5;
const BUTTON_STEP = 1.5;

/**
 * Zoom and pan for an SVG map of `contentWidth` × `contentHeight`: the viewport takes the frame's
 * width and a height that shows the whole map at first (at most 70 % of the window); buttons
 * zoom around the centre, the wheel and a pinch around the pointer, a drag pans. State changes
 * only re-render the element that carries the transform; the seats underneath are memoized.
 */
export function useMapView(contentWidth: number, contentHeight: number) {
  const frameRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [maxHeight] = useState(() => Math.min(720, Math.max(240, window.innerHeight * 0.7)));
  const [moved, setView] = useState<View | null>(null);

  // Measured before the first paint, so the map appears at its final size at once.
  useLayoutEffect(() => {
    const frame = frameRef.current;
    if (!frame) return;
    setWidth(frame.clientWidth);
    const observer = new ResizeObserver(() => setWidth(frame.clientWidth));
    observer.observe(frame);
    return () => observer.disconnect();
  }, []);

  const fit = width > 0 ? Math.min(1, width / contentWidth, maxHeight / contentHeight) : 1;
  const frame: Frame = useMemo(
    () => ({ width, height: Math.ceil(contentHeight * fit), contentWidth, contentHeight }),
    [width, fit, contentWidth, contentHeight],
  );
  const view = moved ? clampView(frame, fit, moved) : homeView(frame, fit);

  // The gesture handlers read the latest frame without being re-created on every frame; the
  // view itself comes from the state updater, so several moves between renders all count.
  const latest = useRef({ frame, fit });
  latest.current = { frame, fit };
  const update = useCallback(
    (next: (now: { frame: Frame; fit: number; view: View }) => View) =>
      setView((previous) => {
        const { frame, fit } = latest.current;
        const view = previous ? clampView(frame, fit, previous) : homeView(frame, fit);
        return next({ frame, fit, view });
      }),
    [],
  );

  const zoomBy = useCallback(
    (factor: number, px?: number, py?: number) =>
      update(({ frame, fit, view }) =>
        zoomAt(frame, fit, view, factor, px ?? frame.width / 2, py ?? frame.height / 2),
      ),
    [update],
  );
  const showBox = useCallback(
    (box: { x: number; y: number; width: number; height: number }) =>
      update(({ frame, fit, view }) => reveal(frame, fit, view, box)),
    [update],
  );

  const gestures = usePointerGestures(frameRef, zoomBy, (dx, dy) =>
    update(({ frame, fit, view }) =>
      clampView(frame, fit, { ...view, x: view.x + dx, y: view.y + dy }),
    ),
  );

  return {
    frameRef,
    frame,
    view,
    ready: width > 0,
    canZoomIn: view.k < Math.max(fit, MAX_ZOOM) - 1e-6,
    canZoomOut: view.k > fit + 1e-6,
    zoomIn: () => zoomBy(BUTTON_STEP),
    zoomOut: () => zoomBy(1 / BUTTON_STEP),
    reset: () => setView(null),
    showBox,
    /** True right after a drag: the click that ends it must not toggle a seat. */
    wasDrag: gestures.wasDrag,
  };
}

/**
 * Drag to pan (one pointer), pinch to zoom (two), wheel to zoom. The wheel listener is added by
 * hand because React's is passive and could not keep the page from scrolling.
 */
function usePointerGestures(
  frameRef: RefObject<HTMLDivElement | null>,
  zoomBy: (factor: number, px: number, py: number) => void,
  panBy: (dx: number, dy: number) => void,
) {
  const handlers = useRef({ zoomBy, panBy });
  handlers.current = { zoomBy, panBy };
  const dragged = useRef(false);

  useEffect(() => {
    const frame = frameRef.current;
    if (!frame) return;
    const pointers = new Map<number, { x: number; y: number }>();
    let start: { x: number; y: number } | null = null;
    let dragging = false;
    const local = (e: { clientX: number; clientY: number }) => {
      const box = frame.getBoundingClientRect();
      return {
        x: e.clientX - box.left - frame.clientLeft,
        y: e.clientY - box.top - frame.clientTop,
      };
    };

    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const lines = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? 16 : 1;
      const at = local(e);
      handlers.current.zoomBy(Math.exp(-e.deltaY * lines * 0.002), at.x, at.y);
    };
    const onDown = (e: PointerEvent) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      pointers.set(e.pointerId, local(e));
      if (pointers.size === 1) {
        start = local(e);
        dragging = false;
        dragged.current = false;
      }
    };
    const onMove = (e: PointerEvent) => {
      const before = pointers.get(e.pointerId);
      if (!before) return;
      const now = local(e);
      if (pointers.size === 2) {
        const other = [...pointers.entries()].find(([id]) => id !== e.pointerId)![1];
        const was = Math.hypot(before.x - other.x, before.y - other.y);
        const is = Math.hypot(now.x - other.x, now.y - other.y);
        if (was > 0)
          handlers.current.zoomBy(is / was, (now.x + other.x) / 2, (now.y + other.y) / 2);
        dragging = true;
      } else if (start) {
        if (!dragging && Math.hypot(now.x - start.x, now.y - start.y) > DRAG_THRESHOLD) {
          dragging = true;
          // Captured only once it is a drag: capturing at once would retarget the click of a
          // plain press from the seat to the frame.
          frame.setPointerCapture(e.pointerId);
        }
        if (dragging) handlers.current.panBy(now.x - before.x, now.y - before.y);
      }
      pointers.set(e.pointerId, now);
    };
    const onUp = (e: PointerEvent) => {
      pointers.delete(e.pointerId);
      if (pointers.size === 0) {
        dragged.current = dragging;
        start = null;
        dragging = false;
      }
    };

    frame.addEventListener('wheel', onWheel, { passive: false });
    frame.addEventListener('pointerdown', onDown);
    frame.addEventListener('pointermove', onMove);
    frame.addEventListener('pointerup', onUp);
    frame.addEventListener('pointercancel', onUp);
    return () => {
      frame.removeEventListener('wheel', onWheel);
      frame.removeEventListener('pointerdown', onDown);
      frame.removeEventListener('pointermove', onMove);
      frame.removeEventListener('pointerup', onUp);
      frame.removeEventListener('pointercancel', onUp);
    };
  }, [frameRef]);

  return { wasDrag: () => dragged.current };
}
