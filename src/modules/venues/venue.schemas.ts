import { Type, type Static } from '@sinclair/typebox';

export const MAX_VENUE_CAPACITY = 100_000;

const RowInput = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 20 }),
    seats: Type.Integer({ minimum: 1, maximum: 1000 }),
  },
  { additionalProperties: false },
);

const SectionInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    rows: Type.Array(RowInput, { minItems: 1, maxItems: 500 }),
  },
  { additionalProperties: false },
);

export const CreateVenueBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    address: Type.String({ minLength: 1, maxLength: 500 }),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    timezone: Type.String({ minLength: 1, maxLength: 64, examples: ['Europe/Berlin'] }),
    sections: Type.Array(SectionInput, { minItems: 1, maxItems: 200 }),
  },
  { additionalProperties: false },
);
export type CreateVenueInput = Static<typeof CreateVenueBody>;

export const VenueSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  ownerId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  address: Type.String(),
  city: Type.String(),
  timezone: Type.String(),
  capacity: Type.Integer({ description: 'Total number of seats' }),
  createdAt: Type.String({ format: 'date-time' }),
});
export type VenueSummaryView = Static<typeof VenueSummary>;

export const VenueLayout = Type.Array(
  Type.Object({
    name: Type.String(),
    rows: Type.Array(
      Type.Object({
        label: Type.String(),
        seats: Type.Integer({ description: 'Seats numbered 1..seats' }),
      }),
    ),
  }),
);
export type VenueLayoutView = Static<typeof VenueLayout>;

export const VenueDetail = Type.Intersect([VenueSummary, Type.Object({ sections: VenueLayout })]);
export type VenueDetailView = Static<typeof VenueDetail>;
