-- Evently's first schema. PostgreSQL is the source of truth for every correctness guarantee,
-- so the invariants live here as constraints, not only in application code.

-- Times are kept to the millisecond, the precision of a JavaScript Date, so a value read,
-- put in a cursor and sent back compares equal to the stored one.
CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  password_hash text NOT NULL,
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'organizer', 'admin')),
  disabled      boolean NOT NULL DEFAULT false,
  -- Bumped when a user's existing access tokens must stop working (disable, role change).
  token_epoch   integer NOT NULL DEFAULT 0 CHECK (token_epoch >= 0),
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));
CREATE INDEX users_created_idx ON users (created_at, id);

-- One row per login: the refresh-token family. Revoking it ends every token of that login.
CREATE TABLE auth_sessions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  ip           text,
  user_agent   text,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at   timestamptz(3) NOT NULL,
  revoked_at   timestamptz(3),
  revoked_reason text
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX auth_sessions_revoked_idx ON auth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Refresh tokens are stored as SHA-256 hashes; a used one must never be accepted again.
CREATE TABLE refresh_tokens (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3) NOT NULL,
  used_at    timestamptz(3)
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Access tokens revoked before their expiry (logout). The denylist cache is rebuilt from here.
CREATE TABLE revoked_access_tokens (
  jti        uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz(3) NOT NULL
);
CREATE INDEX revoked_access_tokens_expiry_idx ON revoked_access_tokens (expires_at);

CREATE TABLE venues (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id   uuid NOT NULL REFERENCES users (id),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  address    text NOT NULL,
  city       text NOT NULL,
  timezone   text NOT NULL,
  capacity   integer NOT NULL CHECK (capacity > 0),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX venues_created_idx ON venues (created_at, id);

CREATE TABLE venue_sections (
  id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  venue_id uuid NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
  name     text NOT NULL,
  position integer NOT NULL,
  UNIQUE (venue_id, name),
  UNIQUE (venue_id, position)
);

CREATE TABLE venue_rows (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  section_id uuid NOT NULL REFERENCES venue_sections (id) ON DELETE CASCADE,
  label      text NOT NULL,
  position   integer NOT NULL,
  seat_count integer NOT NULL CHECK (seat_count > 0),
  UNIQUE (section_id, label),
  UNIQUE (section_id, position)
);

CREATE TABLE events (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organizer_id         uuid NOT NULL REFERENCES users (id),
  venue_id             uuid REFERENCES venues (id),
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description          text NOT NULL DEFAULT '',
  city                 text,
  starts_at            timestamptz(3) NOT NULL,
  ends_at              timestamptz(3) NOT NULL,
  seating              text NOT NULL CHECK (seating IN ('reserved', 'general')),
  price_cents          integer NOT NULL CHECK (price_cents >= 0),
  currency             char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  section_prices       jsonb NOT NULL DEFAULT '{}'::jsonb,
  max_tickets_per_user integer NOT NULL DEFAULT 10 CHECK (max_tickets_per_user BETWEEN 1 AND 100),
  sales_start_at       timestamptz(3),
  sales_end_at         timestamptz(3),
  status               text NOT NULL DEFAULT 'draft'
                         CHECK (status IN ('draft', 'published', 'cancelled')),
  -- Inventory counters: the booking path moves seats between them in the same transaction
  -- as the seat or hold rows, and these checks make an oversell impossible to commit.
  capacity             integer NOT NULL CHECK (capacity > 0),
  available            integer NOT NULL CHECK (available >= 0),
  held                 integer NOT NULL DEFAULT 0 CHECK (held >= 0),
  sold                 integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  created_at           timestamptz(3) NOT NULL DEFAULT now(),
  updated_at           timestamptz(3) NOT NULL DEFAULT now(),
  published_at         timestamptz(3),
  cancelled_at         timestamptz(3),
  CONSTRAINT events_inventory_balanced CHECK (available + held + sold = capacity),
  CONSTRAINT events_ends_after_start CHECK (ends_at > starts_at),
  CONSTRAINT events_sales_window CHECK (
    sales_start_at IS NULL OR sales_end_at IS NULL OR sales_end_at > sales_start_at),
  CONSTRAINT events_reserved_has_venue CHECK (seating = 'general' OR venue_id IS NOT NULL)
);
CREATE INDEX events_status_starts_idx ON events (status, starts_at, id);
CREATE INDEX events_organizer_idx ON events (organizer_id, starts_at);

-- The seats of one event (materialized from the venue layout at publish time).
CREATE TABLE event_seats (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  section     text NOT NULL,
  row_label   text NOT NULL,
  number      integer NOT NULL CHECK (number > 0),
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  status      text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'held', 'sold')),
  hold_id     uuid,
  booking_id  uuid,
  sort_key    integer NOT NULL,
  CONSTRAINT event_seats_hold_matches_status CHECK ((status = 'held') = (hold_id IS NOT NULL)),
  CONSTRAINT event_seats_booking_matches_status CHECK ((status = 'sold') = (booking_id IS NOT NULL))
);
CREATE UNIQUE INDEX event_seats_position_unique ON event_seats (event_id, section, row_label, number);
CREATE INDEX event_seats_event_status_idx ON event_seats (event_id, status);
CREATE INDEX event_seats_event_sort_idx ON event_seats (event_id, sort_key);
CREATE INDEX event_seats_available_idx ON event_seats (event_id) WHERE status = 'available';
CREATE INDEX event_seats_hold_idx ON event_seats (hold_id) WHERE hold_id IS NOT NULL;

CREATE TABLE holds (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES events (id),
  user_id     uuid NOT NULL REFERENCES users (id),
  quantity    integer NOT NULL CHECK (quantity > 0),
  total_cents integer NOT NULL CHECK (total_cents >= 0),
  currency    char(3) NOT NULL,
  status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'released', 'expired', 'converted')),
  expires_at  timestamptz(3) NOT NULL,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  released_at timestamptz(3)
);
CREATE INDEX holds_active_expiry_idx ON holds (expires_at) WHERE status = 'active';
CREATE INDEX holds_user_event_idx ON holds (user_id, event_id) WHERE status = 'active';

CREATE TABLE hold_seats (
  hold_id uuid NOT NULL REFERENCES holds (id) ON DELETE CASCADE,
  seat_id uuid NOT NULL REFERENCES event_seats (id),
  PRIMARY KEY (hold_id, seat_id)
);

CREATE TABLE bookings (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id     uuid NOT NULL REFERENCES events (id),
  user_id      uuid NOT NULL REFERENCES users (id),
  hold_id      uuid UNIQUE REFERENCES holds (id),
  status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'confirmed', 'cancelled', 'failed')),
  quantity     integer NOT NULL CHECK (quantity > 0),
  total_cents  integer NOT NULL CHECK (total_cents >= 0),
  refund_cents integer NOT NULL DEFAULT 0 CHECK (refund_cents >= 0 AND refund_cents <= total_cents),
  currency     char(3) NOT NULL,
  payment_ref  text,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  updated_at   timestamptz(3) NOT NULL DEFAULT now(),
  confirmed_at timestamptz(3),
  cancelled_at timestamptz(3)
);
CREATE INDEX bookings_user_status_idx ON bookings (user_id, status);
CREATE INDEX bookings_event_created_idx ON bookings (event_id, created_at);

ALTER TABLE event_seats
  ADD CONSTRAINT event_seats_hold_fk FOREIGN KEY (hold_id) REFERENCES holds (id),
  ADD CONSTRAINT event_seats_booking_fk FOREIGN KEY (booking_id) REFERENCES bookings (id);

CREATE TABLE tickets (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  booking_id    uuid NOT NULL REFERENCES bookings (id),
  event_id      uuid NOT NULL REFERENCES events (id),
  seat_id       uuid REFERENCES event_seats (id),
  code          text NOT NULL UNIQUE,
  status        text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'checked_in', 'cancelled')),
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  checked_in_at timestamptz(3)
);
-- The last line of defence against a double sale: one live ticket per seat.
CREATE UNIQUE INDEX tickets_live_seat_unique ON tickets (seat_id)
  WHERE seat_id IS NOT NULL AND status <> 'cancelled';
CREATE INDEX tickets_booking_idx ON tickets (booking_id);

CREATE TABLE sagas (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  type        text NOT NULL,
  booking_id  uuid REFERENCES bookings (id),
  status      text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'compensating', 'completed', 'compensated', 'failed')),
  step        text NOT NULL,
  payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
  attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error  text,
  locked_until timestamptz(3),
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX sagas_unfinished_idx ON sagas (locked_until) WHERE status IN ('running', 'compensating');
CREATE INDEX sagas_status_created_idx ON sagas (status, created_at, id);

-- Transactional outbox: written in the business transaction, published by a relay.
CREATE TABLE outbox (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  aggregate_type text NOT NULL,
  aggregate_id   uuid NOT NULL,
  type           text NOT NULL,
  payload        jsonb NOT NULL,
  created_at     timestamptz(3) NOT NULL DEFAULT now(),
  published_at   timestamptz(3),
  attempts       integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE idempotency_keys (
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scope        text NOT NULL,
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  status_code  integer,
  response     jsonb,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  expires_at   timestamptz(3) NOT NULL,
  PRIMARY KEY (user_id, scope, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz(3) NOT NULL DEFAULT now(),
  actor_id    uuid,
  actor_role  text,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  ip          text,
  request_id  text,
  before      jsonb,
  after       jsonb
);
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, occurred_at);
CREATE INDEX audit_log_action_idx ON audit_log (action, occurred_at);

-- The audit trail is append-only whatever role the application connects with.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

CREATE TABLE notifications (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type       text NOT NULL,
  title      text NOT NULL,
  body       text NOT NULL,
  data       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  read_at    timestamptz(3)
);
CREATE INDEX notifications_user_created_idx ON notifications (user_id, created_at DESC, id);
