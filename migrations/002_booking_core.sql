-- Booking core: a declined payment leaves the hold usable, so a hold may have several failed
-- bookings but at most one that is pending or confirmed.
ALTER TABLE bookings DROP CONSTRAINT bookings_hold_id_key;
CREATE UNIQUE INDEX bookings_live_hold_unique ON bookings (hold_id)
  WHERE status IN ('pending', 'confirmed');
ALTER TABLE bookings ADD COLUMN failure_code text;
CREATE INDEX bookings_hold_idx ON bookings (hold_id);

-- An idempotency key is claimed before its work runs; a claim whose owner died is taken over
-- once locked_until has passed.
ALTER TABLE idempotency_keys ADD COLUMN locked_until timestamptz(3);

ALTER TABLE sagas ADD COLUMN finished_at timestamptz(3);
CREATE UNIQUE INDEX sagas_one_live_per_booking ON sagas (booking_id, type)
  WHERE status IN ('running', 'compensating');

CREATE INDEX holds_event_active_idx ON holds (event_id, expires_at) WHERE status = 'active';
CREATE INDEX tickets_event_idx ON tickets (event_id);
