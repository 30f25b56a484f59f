/**
 * The open model (`--rate R`): a new buyer iteration starts every 1/R seconds on a fixed
 * schedule, whether or not the earlier ones have finished, as buyers arriving at a sale do.
 * The closed loop (load.ts runVus) slows its own arrivals down when the server slows down, so
 * its latencies hide the queue a real crowd would build ("coordinated omission"); here every
 * latency runs from when the request should have been sent:
 *
 * - the hold, from the iteration's scheduled start (a late start, a seat-map reload and any
 *   OVERLOADED retries all count);
 * - the booking, from the moment the hold answered;
 * - the whole iteration, from its scheduled start (recorded as the `iteration` timing).
 *
 * Starts are bounded by `maxInFlight` and by the buyers: an iteration takes a buyer no other
 * iteration holds (the per-user hold lock would refuse a second one), and returns it when it
 * ends. A start that finds no room is skipped and counted, not queued: a skipped start means
 * the server fell that far behind, and the run's latencies no longer describe rate R.
 */
import type { RunResult, Stats, Step } from './load.js';
import type { Iteration } from './scenarios.js';

export interface OpenRunResult extends RunResult {
  /** The offered rate, iterations per second. */
  rate: number;
  /** Starts the schedule asked for before the deadline (or sold out). */
  scheduled: number;
  started: number;
  /** Scheduled starts not made: `maxInFlight` iterations were running, or no buyer was free. */
  skipped: number;
  peakInFlight: number;
  /** Iterations that threw (a bug in the load generator, not an answer of the server). */
  failed: number;
}

/** Buyers not in an iteration, oldest first, so each rests as long as possible between two. */
class BuyerQueue {
  private readonly ring: Int32Array;
  private head = 0;
  size: number;

  constructor(buyers: number) {
    this.ring = Int32Array.from({ length: buyers }, (_, i) => i);
    this.size = buyers;
  }

  take(): number {
    const buyer = this.ring[this.head]!;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    return buyer;
  }

  give(buyer: number): void {
    this.ring[(this.head + this.size) % this.ring.length] = buyer;
    this.size++;
  }
}

/**
 * Runs `iteration` as buyer b (its `vu`, round 0) at `rate` starts per second for
 * `durationMs`, then waits for the iterations in flight. Stops scheduling early when an
 * iteration answers 'done' (sold out).
 */
export function runOpen(
  options: { rate: number; durationMs: number; maxInFlight: number; buyers: number },
  stats: Stats,
  iteration: Iteration,
): Promise<OpenRunResult> {
  const { rate, durationMs, maxInFlight } = options;
  const interval = 1000 / rate;
  const free = new BuyerQueue(options.buyers);
  const started = performance.now();
  const deadline = started + durationMs;
  let next = 0; // index of the next scheduled start
  let launched = 0;
  let skipped = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let failed = 0;
  let soldOut = false;
  let schedulingOver = false;

  return new Promise<OpenRunResult>((resolve) => {
    const finish = () =>
      resolve({
        seconds: Math.max(0.001, (performance.now() - started) / 1000),
        finishedEarly: soldOut,
        rate,
        scheduled: next,
        started: launched,
        skipped,
        peakInFlight,
        failed,
      });

    const launch = (scheduledAt: number) => {
      const buyer = free.take();
      inFlight++;
      launched++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      void iteration(buyer, 0, scheduledAt)
        .then(
          (step: Step) => {
            if (step === 'done') soldOut = true;
          },
          () => failed++,
        )
        .finally(() => {
          stats.recordTiming('iteration', performance.now() - scheduledAt);
          free.give(buyer);
          inFlight--;
          if (schedulingOver && inFlight === 0) finish();
        });
    };

    // Wakes at each scheduled start; a late wake (timers, a busy event loop) makes up the
    // starts it missed at once, each still timed from its own scheduled moment.
    const tick = () => {
      const now = performance.now();
      while (!soldOut) {
        const at = started + next * interval;
        if (at > now || at >= deadline) break;
        next++;
        if (inFlight >= maxInFlight || free.size === 0) skipped++;
        else launch(at);
      }
      const upcoming = started + next * interval;
      if (soldOut || upcoming >= deadline) {
        schedulingOver = true;
        if (inFlight === 0) finish();
        return;
      }
      setTimeout(tick, Math.max(0, upcoming - performance.now()));
    };
    tick();
  });
}
