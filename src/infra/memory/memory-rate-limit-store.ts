import type { RateLimitDecision, RateLimitStore } from '../../platform/ports/rate-limit-store.js';

interface Window {
  /** Times of the allowed requests, oldest first. */
  hits: number[];
  windowMs: number;
}

// Idle windows are dropped every so many hits, so one-off clients do not accumulate.
const SWEEP_EVERY_HITS = 1000;

/** The embedded mode's twin of the Redis store: one process, so a Map holds every window. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, Window>();
  private hitsSinceSweep = 0;

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    const now = Date.now();
    if (++this.hitsSinceSweep >= SWEEP_EVERY_HITS) this.sweep(now);
    const window = this.windows.get(key) ?? { hits: [], windowMs };
    window.windowMs = windowMs;
    const stillIn = window.hits.findIndex((at) => at > now - windowMs);
    window.hits.splice(0, stillIn === -1 ? window.hits.length : stillIn);
    const allowed = window.hits.length < limit;
    if (allowed) window.hits.push(now);
    if (window.hits.length > 0) this.windows.set(key, window);
    else this.windows.delete(key);
    const oldest = window.hits[0];
    const resetMs = oldest === undefined ? 0 : oldest + windowMs - now;
    return {
      allowed,
      remaining: limit - window.hits.length,
      resetMs,
      retryAfterMs: allowed ? 0 : resetMs,
    };
  }

  private sweep(now: number): void {
    this.hitsSinceSweep = 0;
    for (const [key, window] of this.windows) {
      const newest = window.hits[window.hits.length - 1];
      if (newest === undefined || newest <= now - window.windowMs) this.windows.delete(key);
    }
  }
}
