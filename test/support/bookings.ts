import type { TestApp, SignedIn } from './test-app.js';
import { api } from './api.js';

export interface Booked {
  id: string;
  status: string;
  totalCents: number;
  tickets: Array<{ id: string; seatId?: string | null; code: string }>;
}

/** Holds (`{quantity}` or `{seatIds}`) and books with tok_visa through the API; throws on a refusal. */
export async function holdAndBook(
  t: TestApp,
  user: SignedIn,
  eventId: string,
  what: { quantity: number } | { seatIds: string[] } = { quantity: 1 },
): Promise<Booked> {
  const held = await api.hold(t, user, eventId, what);
  if (held.statusCode !== 201) throw new Error(`hold: ${held.statusCode} ${held.body}`);
  const booked = await t.inject({
    method: 'POST',
    url: '/api/v1/bookings',
    headers: user.auth,
    payload: { holdId: held.json<{ id: string }>().id, payment: { token: 'tok_visa' } },
  });
  if (booked.statusCode !== 201) throw new Error(`booking: ${booked.statusCode} ${booked.body}`);
  return booked.json<Booked>();
}

/** Every seat id of a reserved event's seat map, in map order. */
export async function seatIdsOf(t: TestApp, eventId: string): Promise<string[]> {
  const map = (await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}/seats` })).json<{
    sections: Array<{ rows: Array<{ seats: Array<{ id: string }> }> }>;
  }>();
  return map.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((seat) => seat.id)));
}

/** Runs `work` over `items` with at most `concurrency` in flight; results keep the input order. */
export async function inBatches<T, R>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += concurrency) {
    const batch = items.slice(start, start + concurrency);
    results.push(...(await Promise.all(batch.map((item, i) => work(item, start + i)))));
  }
  return results;
}

export const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
