import { Type, type Static } from '@sinclair/typebox';

/** The most scans one sync request may carry; a device with more sends several requests. */
export const MAX_SYNC_SCANS = 500;

export const SeatSchema = Type.Object({
  section: Type.String(),
  row: Type.String(),
  number: Type.Integer(),
});

const TicketStatusSchema = Type.Union([
  Type.Literal('valid'),
  Type.Literal('checked_in'),
  Type.Literal('cancelled'),
]);

const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const TicketSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  bookingId: Type.String({ format: 'uuid' }),
  eventId: Type.String({ format: 'uuid' }),
  seat: Type.Optional(SeatSchema),
  code: Type.String(),
  status: TicketStatusSchema,
  checkedInAt: NullableTime,
});
export type TicketView = Static<typeof TicketSchema>;

/** A ticket code as a scanner reads it (from a QR code, a USB scanner or typed by hand). */
const Code = Type.String({ minLength: 1, maxLength: 128 });

export const CheckInBody = Type.Object({ code: Code }, { additionalProperties: false });

export const CheckInSchema = Type.Object({
  ticketId: Type.String({ format: 'uuid' }),
  seat: Type.Optional(SeatSchema),
  holderName: Type.String(),
  checkedInAt: Type.String({ format: 'date-time' }),
});
export type CheckInView = Static<typeof CheckInSchema>;

export const GrantScannerBody = Type.Object(
  { userId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

export const ScannerGrantSchema = Type.Object({
  eventId: Type.String({ format: 'uuid' }),
  userId: Type.String({ format: 'uuid' }),
  grantedAt: Type.String({ format: 'date-time' }),
});
export type ScannerGrantView = Static<typeof ScannerGrantSchema>;

export const ManifestSchema = Type.Object({
  generatedAt: Type.String({ format: 'date-time' }),
  tickets: Type.Array(
    Type.Object({
      codeHash: Type.String({ description: 'SHA-256 of the ticket code (UTF-8), lowercase hex' }),
      seat: Type.Optional(SeatSchema),
      status: TicketStatusSchema,
      checkedInAt: NullableTime,
    }),
  ),
});
export type ManifestView = Static<typeof ManifestSchema>;

export const SyncBody = Type.Object(
  {
    scans: Type.Array(
      Type.Object(
        {
          code: Code,
          scannedAt: Type.String({ format: 'date-time' }),
          deviceId: Type.String({ minLength: 1, maxLength: 100 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_SYNC_SCANS },
    ),
  },
  { additionalProperties: false },
);
export type SyncInput = Static<typeof SyncBody>;

export const SyncOutcomeSchema = Type.Union([
  Type.Literal('checked_in'),
  Type.Literal('already_checked_in'),
  Type.Literal('not_found'),
  Type.Literal('not_valid'),
]);
export type SyncOutcome = Static<typeof SyncOutcomeSchema>;

export const SyncResultSchema = Type.Object({
  results: Type.Array(
    Type.Object({ code: Type.String(), outcome: SyncOutcomeSchema, checkedInAt: NullableTime }),
  ),
});
export type SyncResultView = Static<typeof SyncResultSchema>;
