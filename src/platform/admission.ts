import { AppError } from './errors.js';

/**
 * Bounded queues instead of long waits. An instance admits booking work (holds, bookings)
 * while what is already in flight can finish within the latency budget, by Little's law:
 * the wait of a new request is about in-flight / throughput, with the throughput measured
 * over the last seconds. The rest is answered at once with 503 OVERLOADED and Retry-After,
 * before anything changed, so a stampede meets fast refusals instead of ten-second queues.
 */
export interface AdmissionSettings {
  /** How long admitted work may expect to wait; 0 turns the control off. */
  budgetMs: number;
  /** Always admitted, whatever the measurements say (a cold start, a trickle). */
  minInFlight: number;
}

const WINDOW_MS = 250;
const WINDOWS = 8;

export class AdmissionControl {
  private inFlight = 0;
  /** Completions per window, a ring of the last WINDOWS windows. */
  private readonly completions = new Array<number>(WINDOWS).fill(0);
  private windowIndex = 0;
  private windowStartedAt = Date.now();
  private shed = 0;

  constructor(private readonly settings: AdmissionSettings) {}

  /**
   * Throws OVERLOADED at once when new work could not finish within the budget. As a route's
   * first `onRequest` hook it sheds before the token check and the body are paid for; `run`
   * decides again when the work starts.
   */
  assertAdmits(): void {
    if (this.admits()) return;
    this.shed++;
    throw new AppError('OVERLOADED', 'Too much booking work in flight; retry in a moment', {
      headers: { 'retry-after': '1' },
    });
  }

  /** Runs `work` if it can finish within the budget; otherwise throws OVERLOADED at once. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.assertAdmits();
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
      this.rotate(Date.now());
      this.completions[this.windowIndex]!++;
    }
  }

  /** Requests refused so far (a metric). */
  get shedCount(): number {
    return this.shed;
  }

  get current(): number {
    return this.inFlight;
  }

  private admits(): boolean {
    if (this.settings.budgetMs <= 0 || this.inFlight < this.settings.minInFlight) return true;
    const perSecond = this.throughput();
    if (perSecond <= 0) return false;
    return ((this.inFlight + 1) / perSecond) * 1000 <= this.settings.budgetMs;
  }

  /** Completions per second over the finished windows (the current one is partial). */
  private throughput(): number {
    const now = Date.now();
    this.rotate(now);
    let done = 0;
    for (let i = 1; i < WINDOWS; i++) done += this.completions[(this.windowIndex + i) % WINDOWS]!;
    return (done * 1000) / (WINDOW_MS * (WINDOWS - 1));
  }

  private rotate(now: number): void {
    if (now - this.windowStartedAt >= WINDOW_MS * WINDOWS) {
      // Idle for longer than the ring: nothing in it is recent.
      this.completions.fill(0);
      this.windowStartedAt = now;
      return;
    }
    while (now - this.windowStartedAt >= WINDOW_MS) {
      this.windowIndex = (this.windowIndex + 1) % WINDOWS;
      this.completions[this.windowIndex] = 0;
      this.windowStartedAt += WINDOW_MS;
    }
  }
}
