/**
 * What one virtual user does in each scenario. Every VU loops with 0 ms think time; a
 * VU signs in as its own buyers (VU v uses buyers v, v + vus, v + 2 vus, ... in turn), so two
 * VUs never race for one buyer's per-event lock. The open model (open-model.ts) runs the same
 * rush bodies, one iteration per scheduled start, each as a buyer no other iteration holds.
 *
 * A 503 OVERLOADED answer (the server shedding load) is not an error: the VU waits as the
 * server asks (Retry-After, at most 1 s) and sends the same request again.
 */
import { randomUUID } from 'node:crypto';
import {
  OVERLOADED_CODE,
  timed,
  type HttpClient,
  type Reply,
  type Stats,
  type Step,
} from './load.js';
import { seatsOf, type SeatMap } from './seed.js';

export const SCENARIOS = ['seat-rush', 'ga-rush', 'browse', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const EP = {
  hold: 'POST /events/:id/holds',
  book: 'POST /bookings',
  list: 'GET /events',
  detail: 'GET /events/:id',
  seats: 'GET /events/:id/seats',
  refresh: 'GET /events/:id/seats (VU seat-map refresh)',
} as const;

export interface VuContext {
  client: HttpClient;
  stats: Stats;
  tokens: string[];
  vus: number;
  /** Send Idempotency-Key on holds and bookings, as a careful client would. */
  idempotencyKeys: boolean;
  /** performance.now() after which a request refused as OVERLOADED is not retried. */
  deadline: number;
}

/**
 * One iteration of a VU: `vu` and `round` choose the buyer; `scheduledAt` (open model only)
 * is when the iteration should have started, the origin of its hold's latency.
 */
export type Iteration = (vu: number, round: number, scheduledAt?: number) => Promise<Step>;

const API = '/api/v1';

function tokenFor(ctx: VuContext, vu: number, round: number): string {
  const n = ctx.tokens.length;
  if (n <= ctx.vus) return ctx.tokens[vu % n]!;
  const perVu = Math.floor(n / ctx.vus);
  return ctx.tokens[vu + ctx.vus * (round % perVu)]!;
}

const idempotency = (ctx: VuContext): Record<string, string> =>
  ctx.idempotencyKeys ? { 'idempotency-key': randomUUID() } : {};

const isOverloaded = (reply: Reply) =>
  reply.status === 503 && (reply.json as { code?: string } | null)?.code === OVERLOADED_CODE;

/**
 * How long to wait before retrying an OVERLOADED request: the server's Retry-After, capped at
 * 1 s (a buyer would not wait longer before pressing again), or 50-200 ms without one; both
 * jittered, so the refused requests do not all come back in the same millisecond.
 */
function backoffMs(retryAfter: string | undefined): number {
  const seconds = Number(retryAfter);
  if (retryAfter !== undefined && Number.isFinite(seconds) && seconds >= 0) {
    return Math.min(1000, seconds * 1000) * (0.5 + Math.random() / 2);
  }
  return 50 + Math.random() * 150;
}

/**
 * `request`, timed under `endpoint` and sent again while the server answers OVERLOADED (until
 * the run's deadline). Every answer is recorded, the refusals too, each from `origin` when
 * given: a retried request's latency then includes the waiting.
 */
async function send(
  ctx: VuContext,
  endpoint: string,
  request: () => Promise<Reply>,
  origin?: number,
): Promise<Reply> {
  for (;;) {
    const reply = await timed(ctx.stats, endpoint, request, origin);
    if (!isOverloaded(reply)) return reply;
    if (performance.now() >= ctx.deadline) {
      ctx.stats.count('overloadedGaveUp');
      return reply;
    }
    await new Promise((done) => setTimeout(done, backoffMs(reply.retryAfter)));
  }
}

/**
 * The load generator's picture of a reserved event's seats: loaded once from the seat map,
 * then kept up to date from the answers (a 201 takes its seats, a 409 names the taken ones).
 * Reloaded from the server only when it believes nothing is left. VUs pick from it at
 * random, so they do collide on seats, as buyers staring at one seat map do.
 */
export class SeatPicker {
  private ids: string[] = [];
  private index = new Map<string, number>();
  private taken = new Uint8Array(0);
  private candidates: number[] = [];
  private reloading: Promise<void> | null = null;

  constructor(
    private readonly ctx: VuContext,
    readonly eventId: string,
  ) {}

  async load(): Promise<void> {
    this.reloading ??= (async () => {
      const reply = await send(this.ctx, EP.refresh, () =>
        this.ctx.client.request('GET', `${API}/events/${this.eventId}/seats`, { parse: true }),
      );
      if (reply.status !== 200) return;
      const seats = seatsOf(reply.json as SeatMap);
      if (this.ids.length === 0) {
        this.ids = seats.map((s) => s.id);
        this.index = new Map(this.ids.map((id, i) => [id, i]));
        this.taken = new Uint8Array(this.ids.length);
      }
      this.candidates = [];
      for (const seat of seats) {
        const i = this.index.get(seat.id)!;
        this.taken[i] = seat.status === 'available' ? 0 : 1;
        if (seat.status === 'available') this.candidates.push(i);
      }
    })().finally(() => (this.reloading = null));
    return this.reloading;
  }

  get remaining(): number {
    return this.candidates.length;
  }

  /** Up to `n` distinct random seats that look available, or [] when none do. */
  pick(n: number): string[] {
    const chosen: number[] = [];
    while (chosen.length < n && this.candidates.length > 0) {
      const at = Math.floor(Math.random() * this.candidates.length);
      const seat = this.candidates[at]!;
      if (this.taken[seat] || chosen.includes(seat)) {
        if (this.taken[seat]) {
          this.candidates[at] = this.candidates[this.candidates.length - 1]!;
          this.candidates.pop();
        } else if (this.candidates.length <= chosen.length) {
          break;
        }
        continue;
      }
      chosen.push(seat);
    }
    return chosen.map((i) => this.ids[i]!);
  }

  markTaken(seatIds: string[]): void {
    for (const id of seatIds) {
      const i = this.index.get(id);
      if (i !== undefined) this.taken[i] = 1;
    }
  }
}

/**
 * Books a hold. In the open model (`open`) the booking's latency runs from the moment the
 * hold answered, so a retried booking still counts the time since then.
 */
async function book(
  ctx: VuContext,
  token: string,
  holdId: string,
  quantity: number,
  open: boolean,
) {
  const headers = idempotency(ctx); // one key for every retry of this booking
  const reply = await send(
    ctx,
    EP.book,
    () =>
      ctx.client.request('POST', `${API}/bookings`, {
        token,
        headers,
        body: { holdId, payment: { token: 'tok_visa' } },
      }),
    open ? performance.now() : undefined,
  );
  if (reply.status === 201) {
    ctx.stats.count('confirmedBookings');
    ctx.stats.count('ticketsSold', quantity);
  }
}

/** Seat rush: hold 2 random available-looking seats, book them with tok_visa. */
export function seatRush(ctx: VuContext, picker: SeatPicker) {
  return async (vu: number, round: number, scheduledAt?: number): Promise<Step> => {
    let seatIds = picker.pick(2);
    if (seatIds.length === 0) {
      await picker.load();
      seatIds = picker.pick(2);
      if (seatIds.length === 0) return 'done'; // sold out (or everything left is held)
    }
    const token = tokenFor(ctx, vu, round);
    const headers = idempotency(ctx);
    const hold = await send(
      ctx,
      EP.hold,
      () =>
        ctx.client.request('POST', `${API}/events/${picker.eventId}/holds`, {
          token,
          headers,
          body: { seatIds },
          parse: true,
        }),
      scheduledAt,
    );
    if (hold.status === 201) {
      ctx.stats.count('holds');
      picker.markTaken(seatIds);
      const holdId = (hold.json as { id: string }).id;
      await book(ctx, token, holdId, seatIds.length, scheduledAt !== undefined);
      return 'continue';
    }
    const problem = (hold.json ?? {}) as { code?: string; unavailableSeatIds?: string[] };
    if (problem.code === 'SEAT_UNAVAILABLE') picker.markTaken(problem.unavailableSeatIds ?? []);
    if (problem.code === 'SOLD_OUT') await picker.load();
    return 'continue';
  };
}

/** GA rush: hold 1-4 general-admission tickets, book them. Done when even 1 is sold out. */
export function gaRush(ctx: VuContext, eventId: string) {
  let soldOutAbove = 5; // the smallest quantity refused as SOLD_OUT so far
  return async (vu: number, round: number, scheduledAt?: number): Promise<Step> => {
    const quantity = Math.min(1 + Math.floor(Math.random() * 4), soldOutAbove - 1);
    if (quantity < 1) return 'done';
    const token = tokenFor(ctx, vu, round);
    const headers = idempotency(ctx);
    const hold = await send(
      ctx,
      EP.hold,
      () =>
        ctx.client.request('POST', `${API}/events/${eventId}/holds`, {
          token,
          headers,
          body: { quantity },
          parse: true,
        }),
      scheduledAt,
    );
    if (hold.status === 201) {
      ctx.stats.count('holds');
      const holdId = (hold.json as { id: string }).id;
      await book(ctx, token, holdId, quantity, scheduledAt !== undefined);
    } else if ((hold.json as { code?: string } | null)?.code === 'SOLD_OUT') {
      soldOutAbove = Math.min(soldOutAbove, quantity);
    }
    return 'continue';
  };
}

export type BrowseTarget = 'list' | 'detail' | 'seats';

/** One browse request: the event list, an event's detail, or a 20,000-seat map. */
export function browse(ctx: VuContext, eventIds: string[], only?: BrowseTarget) {
  const targets: BrowseTarget[] = only ? [only] : ['list', 'detail', 'seats'];
  return async (): Promise<Step> => {
    const target = targets[Math.floor(Math.random() * targets.length)]!;
    const eventId = eventIds[Math.floor(Math.random() * eventIds.length)]!;
    if (target === 'list') {
      await send(ctx, EP.list, () => ctx.client.request('GET', `${API}/events`));
    } else if (target === 'detail') {
      await send(ctx, EP.detail, () => ctx.client.request('GET', `${API}/events/${eventId}`));
    } else {
      await send(ctx, EP.seats, () =>
        ctx.client.request('GET', `${API}/events/${eventIds[0]}/seats`),
      );
    }
    return 'continue';
  };
}

/** Mixed: each iteration is a browse request (90%) or a seat-rush hold + booking (10%). */
export function mixed(ctx: VuContext, picker: SeatPicker, eventIds: string[]) {
  const rush = seatRush(ctx, picker);
  const look = browse(ctx, eventIds);
  let soldOut = false;
  return async (vu: number, round: number): Promise<Step> => {
    if (!soldOut && Math.random() < 0.1) {
      if ((await rush(vu, round)) === 'done') soldOut = true;
      return 'continue';
    }
    return look();
  };
}
