import { AppError } from '../../platform/errors.js';
import type { Principal } from '../auth/index.js';
import type { EventOwnership } from '../events/index.js';
import type {
  AnalyticsRepository,
  AnalyticsScope,
  Bucket,
  Counters,
  HourRange,
} from './analytics.repository.js';
import type { AnalyticsQuery, EventAnalytics, PlatformAnalytics } from './analytics.schemas.js';

const DAY_MS = 86_400_000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 400;
// Hour buckets for longer ranges would be thousands of entries; daily ones serve there.
const MAX_HOURLY_DAYS = 31;

const rate = (c: Counters) =>
  c.bookings === 0 ? 0 : Math.round((c.cancellations / c.bookings) * 10_000) / 10_000;

const bucketCounters = (b: Counters) => ({
  bookings: b.bookings,
  ticketsSold: b.tickets,
  revenueCents: b.revenueCents,
  cancellations: b.cancellations,
  cancelledTickets: b.cancelledTickets,
  refundedCents: b.refundedCents,
});

/** What organizers and admins see of sales, from the roll-ups (never a scan of bookings). */
export class AnalyticsService {
  constructor(
    private readonly analytics: AnalyticsRepository,
    private readonly events: EventOwnership,
    private readonly clock: { now(): Date },
  ) {}

  /** Admins: the whole platform. Organizers (via /me/analytics): their own events. */
  async overview(scope: AnalyticsScope, query: AnalyticsQuery): Promise<PlatformAnalytics> {
    const range = this.rangeOf(query);
    const days = (range.to.getTime() - range.from.getTime()) / DAY_MS;
    const [totals, topEvents, utilization, daily, hourly] = await Promise.all([
      this.analytics.totals(scope, range),
      this.analytics.topEvents(scope, range, query.limit),
      this.analytics.utilization(scope, query.limit),
      this.analytics.buckets(scope, range, 'day'),
      days <= MAX_HOURLY_DAYS ? this.analytics.buckets(scope, range, 'hour') : null,
    ]);
    return {
      range: { from: range.from.toISOString(), to: range.to.toISOString() },
      totals: {
        bookings: totals.bookings,
        ticketsSold: totals.tickets - totals.cancelledTickets,
        revenueCents: totals.revenueCents - totals.refundedCents,
        cancellations: totals.cancellations,
        cancellationRate: rate(totals),
        refundedCents: totals.refundedCents,
      },
      topEvents: topEvents.map((e) => ({
        eventId: e.eventId,
        name: e.name,
        bookings: e.bookings,
        ticketsSold: e.tickets - e.cancelledTickets,
        revenueCents: e.revenueCents - e.refundedCents,
        cancellations: e.cancellations,
      })),
      utilization: utilization.map((u) => ({
        ...u,
        utilization: Math.round((u.sold / u.capacity) * 10_000) / 10_000,
      })),
      daily: daily.map((b: Bucket) => ({
        day: b.start.toISOString().slice(0, 10),
        ...bucketCounters(b),
      })),
      hourly: hourly && hourly.map((b) => ({ hour: b.start.toISOString(), ...bucketCounters(b) })),
    };
  }

  /** One event, for its organizer or an admin: live inventory plus its sales. */
  async forEvent(
    actor: Principal,
    eventId: string,
    query: { from?: string; to?: string },
  ): Promise<EventAnalytics> {
    const event = await this.events.ownedEvent(actor, eventId);
    const range: HourRange = {
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
    };
    assertOrdered(range);
    const [totals, hours] = await Promise.all([
      this.analytics.eventTotals(event.id),
      this.analytics.eventHours(event.id, range),
    ]);
    return {
      eventId: event.id,
      capacity: event.capacity,
      sold: event.sold,
      held: event.held,
      available: event.available,
      bookings: totals.bookings,
      revenueCents: totals.revenueCents - totals.refundedCents,
      cancellations: totals.cancellations,
      cancellationRate: rate(totals),
      salesByHour: hours.map((h) => ({
        hour: h.start.toISOString(),
        bookings: h.bookings,
        tickets: h.tickets,
        revenueCents: h.revenueCents,
        cancellations: h.cancellations,
      })),
      waitlist: null,
    };
  }

  private rangeOf(query: { from?: string; to?: string }): { from: Date; to: Date } {
    const to = query.to ? new Date(query.to) : this.clock.now();
    const from = query.from
      ? new Date(query.from)
      : new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
    assertOrdered({ from, to });
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw rangeError('to', `must be at most ${MAX_RANGE_DAYS} days after from`);
    }
    return { from, to };
  }
}

function assertOrdered(range: HourRange): void {
  if (range.from && range.to && range.from >= range.to) {
    throw rangeError('to', 'must be later than from');
  }
}

const rangeError = (field: string, message: string) =>
  new AppError('VALIDATION_FAILED', `The range is not valid: ${field} ${message}`, {
    errors: [{ field: `querystring.${field}`, message }],
  });
