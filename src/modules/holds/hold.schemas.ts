import { Type, type Static } from '@sinclair/typebox';

export const CreateHoldBody = Type.Union(
  [
    Type.Object(
      {
        seatIds: Type.Array(Type.String({ format: 'uuid' }), {
          minItems: 1,
          maxItems: 100,
          uniqueItems: true,
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { quantity: Type.Integer({ minimum: 1, maximum: 100 }) },
      { additionalProperties: false },
    ),
  ],
  { description: 'seatIds for reserved seating, quantity for general admission' },
);
export type CreateHoldInput = Static<typeof CreateHoldBody>;

export const HoldSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  eventId: Type.String({ format: 'uuid' }),
  seatIds: Type.Array(Type.String({ format: 'uuid' })),
  quantity: Type.Integer(),
  totalCents: Type.Integer(),
  currency: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type HoldView = Static<typeof HoldSchema>;

export const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});
