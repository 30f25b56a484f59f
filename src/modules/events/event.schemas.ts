import { Type, type Static } from '@sinclair/typebox';

const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217, e.g. EUR' });
const Cents = Type.Integer({ minimum: 0, maximum: 100_000_000 });
const Timestamp = Type.String({ format: 'date-time' });
const SectionPrices = Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Cents, {
  description: 'Price per venue section, overriding priceCents',
});

export const MAX_GENERAL_CAPACITY = 1_000_000;

export const CreateEventBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.String({ maxLength: 10_000, default: '' }),
    venueId: Type.Optional(Type.String({ format: 'uuid' })),
    startsAt: Timestamp,
    endsAt: Timestamp,
    seating: Type.Union([Type.Literal('reserved'), Type.Literal('general')]),
    capacity: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_GENERAL_CAPACITY, description: 'general only' }),
    ),
    priceCents: Cents,
    currency: Currency,
    sectionPrices: Type.Optional(SectionPrices),
    maxTicketsPerUser: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    salesStartAt: Type.Optional(Timestamp),
    salesEndAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type CreateEventInput = Static<typeof CreateEventBody>;

export const UpdateEventBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    startsAt: Type.Optional(Timestamp),
    endsAt: Type.Optional(Timestamp),
    capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_GENERAL_CAPACITY })),
    priceCents: Type.Optional(Cents),
    currency: Type.Optional(Currency),
    sectionPrices: Type.Optional(SectionPrices),
    maxTicketsPerUser: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    salesStartAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
    salesEndAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateEventInput = Static<typeof UpdateEventBody>;

export const EventStatusSchema = Type.Union([
  Type.Literal('draft'),
  Type.Literal('published'),
  Type.Literal('cancelled'),
]);

export const EventSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  organizerId: Type.String({ format: 'uuid' }),
  venueId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  name: Type.String(),
  description: Type.String(),
  city: Type.Union([Type.String(), Type.Null()]),
  startsAt: Timestamp,
  endsAt: Timestamp,
  seating: Type.Union([Type.Literal('reserved'), Type.Literal('general')]),
  priceCents: Type.Integer(),
  currency: Type.String(),
  sectionPrices: Type.Record(Type.String(), Type.Integer()),
  maxTicketsPerUser: Type.Integer(),
  salesStartAt: Type.Union([Timestamp, Type.Null()]),
  salesEndAt: Type.Union([Timestamp, Type.Null()]),
  status: EventStatusSchema,
  capacity: Type.Integer(),
  available: Type.Integer(),
  held: Type.Integer(),
  sold: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  publishedAt: Type.Union([Timestamp, Type.Null()]),
  cancelledAt: Type.Union([Timestamp, Type.Null()]),
});
export type EventView = Static<typeof EventSchema>;

export const EventListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text in name or description' })),
    city: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'startsAt ≥ from' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'startsAt < to' })),
    status: Type.Optional(EventStatusSchema),
    organizer: Type.Optional(
      Type.Literal('me', {
        description:
          'Only the caller’s own events (organizers and admins), drafts included: every status unless `status` is given',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EventListFilters = Static<typeof EventListQuery>;

export const SeatMapSchema = Type.Object({
  eventId: Type.String({ format: 'uuid' }),
  seating: Type.Union([Type.Literal('reserved'), Type.Literal('general')]),
  sections: Type.Array(
    Type.Object({
      name: Type.String(),
      rows: Type.Array(
        Type.Object({
          label: Type.String(),
          seats: Type.Array(
            Type.Object({
              id: Type.String({ format: 'uuid' }),
              number: Type.Integer(),
              status: Type.Union([
                Type.Literal('available'),
                Type.Literal('held'),
                Type.Literal('sold'),
              ]),
              priceCents: Type.Integer(),
            }),
          ),
        }),
      ),
    }),
  ),
});
export type SeatMapView = Static<typeof SeatMapSchema>;
