import { Type, type Static } from '@sinclair/typebox';

const Cents = Type.Integer({ description: 'Minor units of the events’ currency' });
const Count = Type.Integer({ minimum: 0 });
// Figures are kept per hour: say how a range meets them.
const HOURS = 'Figures are kept per UTC hour: an hour counts when it overlaps [from, to).';

export const AnalyticsQuery = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        format: 'date-time',
        description: `Start (default: 30 days before to). ${HOURS}`,
      }),
    ),
    to: Type.Optional(
      Type.String({ format: 'date-time', description: `End, exclusive (default: now). ${HOURS}` }),
    ),
    limit: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 10,
      description: 'Entries in topEvents and utilization',
    }),
  },
  { additionalProperties: false },
);
export type AnalyticsQuery = Static<typeof AnalyticsQuery>;

export const EventAnalyticsQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: HOURS })),
    to: Type.Optional(Type.String({ format: 'date-time', description: HOURS })),
  },
  { additionalProperties: false },
);

const BucketCounters = {
  bookings: Count,
  ticketsSold: Type.Integer({ description: 'Tickets confirmed in the bucket' }),
  revenueCents: Cents,
  cancellations: Count,
  cancelledTickets: Count,
  refundedCents: Cents,
};

const Totals = Type.Object({
  bookings: Type.Integer({ description: 'Bookings confirmed in the range' }),
  ticketsSold: Type.Integer({ description: 'Tickets confirmed minus tickets cancelled' }),
  revenueCents: Type.Integer({ description: 'Confirmed amounts minus refunds' }),
  cancellations: Count,
  cancellationRate: Type.Number({ description: 'cancellations / bookings (0 when none)' }),
  refundedCents: Cents,
});

const RankedEvent = Type.Object({
  eventId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  bookings: Count,
  ticketsSold: Type.Integer(),
  revenueCents: Cents,
  cancellations: Count,
});

const UtilizationItem = Type.Object({
  eventId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  status: Type.String(),
  capacity: Count,
  sold: Count,
  held: Count,
  available: Count,
  utilization: Type.Number({ description: 'sold / capacity, now' }),
});

export const PlatformAnalytics = Type.Object({
  range: Type.Object({
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
  }),
  totals: Totals,
  topEvents: Type.Array(RankedEvent),
  utilization: Type.Array(UtilizationItem),
  daily: Type.Array(Type.Object({ day: Type.String({ format: 'date' }), ...BucketCounters })),
  hourly: Type.Union([
    Type.Array(Type.Object({ hour: Type.String({ format: 'date-time' }), ...BucketCounters })),
    Type.Null(),
  ]),
});
export type PlatformAnalytics = Static<typeof PlatformAnalytics>;

export const EventAnalytics = Type.Object({
  eventId: Type.String({ format: 'uuid' }),
  capacity: Count,
  sold: Count,
  held: Count,
  available: Count,
  bookings: Count,
  revenueCents: Type.Integer({ description: 'Confirmed amounts minus refunds, all time' }),
  cancellations: Count,
  cancellationRate: Type.Number(),
  salesByHour: Type.Array(
    Type.Object({
      hour: Type.String({ format: 'date-time' }),
      bookings: Count,
      tickets: Count,
      revenueCents: Cents,
      cancellations: Count,
    }),
    { description: 'Gross per hour: confirmations (cancellations counted apart, not netted)' },
  ),
  waitlist: Type.Union([Count, Type.Null()], {
    description: 'People waiting; null while the event has no waitlist',
  }),
});
export type EventAnalytics = Static<typeof EventAnalytics>;
