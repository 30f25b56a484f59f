import { Type, type Static } from '@sinclair/typebox';

export const CreateBookingBody = Type.Object(
  {
    holdId: Type.String({ format: 'uuid' }),
    payment: Type.Object(
      { token: Type.String({ minLength: 1, maxLength: 200, examples: ['tok_visa'] }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type CreateBookingInput = Static<typeof CreateBookingBody>;

export const TicketSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  seatId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  code: Type.String(),
  status: Type.Union([
    Type.Literal('valid'),
    Type.Literal('checked_in'),
    Type.Literal('cancelled'),
  ]),
});

export const SagaStateSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String(),
  status: Type.String(),
  step: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
});

export const BookingSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  eventId: Type.String({ format: 'uuid' }),
  userId: Type.String({ format: 'uuid' }),
  holdId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('confirmed'),
    Type.Literal('cancelled'),
    Type.Literal('failed'),
  ]),
  quantity: Type.Integer(),
  totalCents: Type.Integer(),
  refundCents: Type.Integer(),
  currency: Type.String(),
  failureCode: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  confirmedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  cancelledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  tickets: Type.Array(TicketSchema),
  saga: Type.Union([SagaStateSchema, Type.Null()]),
});
export type BookingView = Static<typeof BookingSchema>;

export const BookingSummarySchema = Type.Omit(BookingSchema, ['tickets', 'saga']);
export type BookingSummaryView = Static<typeof BookingSummarySchema>;

export const CancelResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Literal('cancelled'),
  refundCents: Type.Integer(),
});
