/**
 * Timers that run inside the page (as an init script, which the page's CSP does not block), so
 * the figures are the page's own clock from the input event to the paint after the change —
 * not the DevTools round trips of the driver. "After the paint" is the usual approximation: a
 * task queued from the next animation frame runs once that frame has been drawn.
 */
export const PROBES = `
(() => {
  const afterNextPaint = (done) =>
    requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0));
  const conditions = {
    seatSelected: (id) =>
      document.querySelector('[data-seat-id="' + id + '"]')?.getAttribute('aria-checked') === 'true',
    checkoutShown: () =>
      [...document.querySelectorAll('h2')].some((h) => h.textContent === 'Your tickets are held'),
  };
  let frames = null;
  window.__budget = {
    /** Milliseconds since navigation start when the first seats (one React commit: all) are drawn. */
    seatsDrawn: () =>
      new Promise((resolve) => {
        const check = () =>
          document.querySelector('[data-seat-id]') ? afterNextPaint(resolve) : requestAnimationFrame(check);
        check();
      }),
    /** From the next pointerdown to the paint after the condition holds, in ms. */
    timeUntil: (name, arg) =>
      new Promise((resolve) => {
        let start = null;
        addEventListener('pointerdown', () => { start = performance.now(); }, { capture: true, once: true });
        const observer = new MutationObserver(() => {
          if (start === null || !conditions[name](arg)) return;
          observer.disconnect();
          afterNextPaint((end) => resolve(end - start));
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      }),
    startFrames: () => {
      const times = [];
      frames = { times, on: true };
      const loop = (t) => { times.push(t); if (frames && frames.on) requestAnimationFrame(loop); };
      requestAnimationFrame(loop);
    },
    /** The intervals between the frames drawn since startFrames, in ms. */
    stopFrames: () => {
      frames.on = false;
      const t = frames.times;
      return t.slice(1).map((time, i) => time - t[i]);
    },
    transferred: (suffix) =>
      performance.getEntriesByType('resource').find((e) => e.name.endsWith(suffix))?.encodedBodySize ?? 0,
    /** When the response ending in suffix had fully arrived, in ms since navigation start. */
    arrived: (suffix) =>
      performance.getEntriesByType('resource').find((e) => e.name.endsWith(suffix))?.responseEnd ?? 0,
  };
})();
`;
