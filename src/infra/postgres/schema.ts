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
  available: number;
  held: ColumnType<number, number | undefined, number>;
  sold: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  published_at: NullableTimestamp;
  cancelled_at: NullableTimestamp;
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
  event_seats: EventSeatsTable;
  audit_log: AuditLogTable;
  schema_migrations: SchemaMigrationsTable;
}
