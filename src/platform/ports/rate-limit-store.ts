/** The answer to one request counted against one window. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests still allowed in the window after this one (0 when refused). */
  remaining: number;
  /** Until the oldest counted request leaves the window, i.e. a slot frees up (0 when empty). */
  resetMs: number;
  /** How long a refused client should wait before trying again (0 when allowed). */
  retryAfterMs: number;
}

/**
 * Sliding-window request counters. A window holds the times of the requests it allowed during
 * the last `windowMs`; a request is allowed while fewer than `limit` are in it. Refused requests
 * are not counted, so a client that backs off is served again once its old requests age out.
 * Every adapter answers the same: the Redis one shares windows between instances, the
 * in-process one belongs to a single process.
 */
export interface RateLimitStore {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
}
