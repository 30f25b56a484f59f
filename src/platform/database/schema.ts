import type { ColumnType, Generated, JSONColumnType } from 'kysely';

// Kysely's view of the tables in migrations/. Timestamps come back as Date from both drivers.
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;

export type UserRole = 'user' | 'organizer' | 'admin';
export type EventStatus = 'draft' | 'published' | 'cancelled';
export type Seating = 'reserved' | 'general';
export type SeatStatus = 'available' | 'held' | 'sold';

export interface UsersTable {
  id: Generated<string>;
  email: string;
  name: string;
  password_hash: string;
  role: ColumnType<UserRole, UserRole | undefined, UserRole>;
  disabled: ColumnType<boolean, boolean | undefined, boolean>;
  token_epoch: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AuthSessionsTable {
  id: Generated<string>;
  user_id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  session_id: string;
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface RevokedAccessTokensTable {
  jti: string;
  user_id: string;
  expires_at: Timestamp;
}

export interface VenuesTable {
  id: Generated<string>;
  owner_id: string;
  name: string;
  address: string;
  city: string;
  timezone: string;
  capacity: number;
  created_at: CreatedAt;
}

export interface VenueSectionsTable {
  id: Generated<string>;
  venue_id: string;
  name: string;
  position: number;
}

export interface VenueRowsTable {
  id: Generated<string>;
  section_id: string;
  label: string;
  position: number;
  seat_count: number;
}

export interface EventsTable {
  id: Generated<string>;
  organizer_id: string;
  venue_id: string | null;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  city: string | null;
  starts_at: Timestamp;
  ends_at: Timestamp;
  seating: Seating;
  price_cents: number;
  currency: string;
  section_prices: JSONColumnType<Record<string, number>, string, string>;
  max_tickets_per_user: ColumnType<number, number | undefined, number>;
  sales_start_at: NullableTimestamp;
  sales_end_at: NullableTimestamp;
  status: ColumnType<EventStatus, EventStatus | undefined, EventStatus>;
  capacity: number;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  published_at: NullableTimestamp;
  cancelled_at: NullableTimestamp;
}

/**
 * The view `events_with_inventory` (migration 013): the event and its inventory, summed over
 * the stock buckets (general admission) or counted from the seat rows (reserved). Read-only.
 */
export interface EventsWithInventoryView extends EventsTable {
  available: ColumnType<number, never, never>;
  held: ColumnType<number, never, never>;
  sold: ColumnType<number, never, never>;
}

/** One of a general-admission event's eight stock buckets (migration 013). */
export interface EventStockTable {
  event_id: string;
  bucket: number;
  capacity: number;
  available: number;
  held: ColumnType<number, number | undefined, number>;
  sold: ColumnType<number, number | undefined, number>;
}

export interface EventSeatsTable {
  id: Generated<string>;
  event_id: string;
  section: string;
  row_label: string;
  number: number;
  price_cents: number;
  status: ColumnType<SeatStatus, SeatStatus | undefined, SeatStatus>;
  hold_id: string | null;
  booking_id: string | null;
  sort_key: number;
}

export type HoldStatus = 'active' | 'released' | 'expired' | 'converted';
export type BookingStatus = 'pending' | 'confirmed' | 'cancelled' | 'failed';
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';

export interface HoldsTable {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  total_cents: number;
  currency: string;
  status: ColumnType<HoldStatus, HoldStatus | undefined, HoldStatus>;
  expires_at: Timestamp;
  created_at: CreatedAt;
  released_at: NullableTimestamp;
  /** The statement that last changed the hold moved the event's counters itself (010). */
  counters_moved: ColumnType<boolean, boolean | undefined, boolean>;
  /** The stock bucket a general-admission hold took its tickets from (migration 013). */
  bucket: ColumnType<number, number | undefined, number>;
}

export interface HoldSeatsTable {
  hold_id: string;
  seat_id: string;
}

export interface BookingsTable {
  id: string;
  event_id: string;
  user_id: string;
  hold_id: string | null;
  status: ColumnType<BookingStatus, BookingStatus | undefined, BookingStatus>;
  quantity: number;
  total_cents: number;
  refund_cents: ColumnType<number, number | undefined, number>;
  currency: string;
  payment_ref: string | null;
  failure_code: string | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  confirmed_at: NullableTimestamp;
  cancelled_at: NullableTimestamp;
}

export interface TicketsTable {
  id: Generated<string>;
  booking_id: string;
  event_id: string;
  seat_id: string | null;
  code: string;
  status: ColumnType<
    'valid' | 'checked_in' | 'cancelled',
    'valid' | undefined,
    'valid' | 'checked_in' | 'cancelled'
  >;
  created_at: CreatedAt;
  checked_in_at: NullableTimestamp;
}

/** Who may check tickets in for an event besides its organizer and admins (migration 014). */
export interface EventScannersTable {
  event_id: string;
  user_id: string;
  granted_by: string | null;
  granted_at: CreatedAt;
}

export interface SagasTable {
  id: Generated<string>;
  type: string;
  booking_id: string | null;
  status: ColumnType<SagaStatus, SagaStatus | undefined, SagaStatus>;
  step: string;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  locked_until: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  finished_at: NullableTimestamp;
}

export interface OutboxTable {
  id: Generated<string>;
  message_id: Generated<string>;
  aggregate_type: string;
  aggregate_id: string;
  type: string;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
  published_at: NullableTimestamp;
  attempts: ColumnType<number, number | undefined, number>;
  /** W3C carrier (traceparent, tracestate) of the writing transaction; null when untraced. */
  trace_context: ColumnType<
    Record<string, string> | null,
    string | null | undefined,
    string | null
  >;
}

export interface IdempotencyKeysTable {
  user_id: string;
  scope: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: CreatedAt;
  expires_at: Timestamp;
  locked_until: NullableTimestamp;
}

export interface NotificationsTable {
  id: Generated<string>;
  user_id: string;
  type: string;
  title: string;
  body: string;
  data: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
  read_at: NullableTimestamp;
}

export interface EmailDeliveriesTable {
  id: Generated<string>;
  notification_id: string;
  to_address: string;
  subject: string;
  body: string;
  status: ColumnType<
    'pending' | 'sent' | 'failed',
    'pending' | undefined,
    'pending' | 'sent' | 'failed'
  >;
  attempts: ColumnType<number, number | undefined, number>;
  locked_until: NullableTimestamp;
  last_error: string | null;
  created_at: CreatedAt;
  sent_at: NullableTimestamp;
}

export interface DeadLettersTable {
  id: Generated<string>;
  consumer: string;
  message_id: string;
  type: string;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  error: string;
  attempts: number;
  created_at: CreatedAt;
  retried_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  occurred_at: CreatedAt;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  request_id: string | null;
  before: ColumnType<unknown, string | null | undefined, never>;
  after: ColumnType<unknown, string | null | undefined, never>;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_at: CreatedAt;
}

/** Tables this code reads through Kysely; later features add theirs. */
export interface DB {
  users: UsersTable;
  auth_sessions: AuthSessionsTable;
  refresh_tokens: RefreshTokensTable;
  revoked_access_tokens: RevokedAccessTokensTable;
  venues: VenuesTable;
  venue_sections: VenueSectionsTable;
  venue_rows: VenueRowsTable;
  events: EventsTable;
  events_with_inventory: EventsWithInventoryView;
  event_stock: EventStockTable;
  event_seats: EventSeatsTable;
  holds: HoldsTable;
  hold_seats: HoldSeatsTable;
  bookings: BookingsTable;
  tickets: TicketsTable;
  event_scanners: EventScannersTable;
  sagas: SagasTable;
  outbox: OutboxTable;
  idempotency_keys: IdempotencyKeysTable;
  notifications: NotificationsTable;
  email_deliveries: EmailDeliveriesTable;
  dead_letters: DeadLettersTable;
  audit_log: AuditLogTable;
  schema_migrations: SchemaMigrationsTable;
}
