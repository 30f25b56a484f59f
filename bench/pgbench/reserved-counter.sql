-- reserved.sql plus an inventory counter on one hot row, as every Evently hold and
-- confirmation did before migration 013 (informational: the hot-row cost of a reserved booking).
\set e random(1, 25)
\set k random(1, 19999)
BEGIN;
INSERT INTO bookings (event_id, user_id, status, quantity, total_cents, currency)
  SELECT id, ':user_id', 'confirmed', 2, 10000, 'EUR' FROM pgb_events WHERE n = :e
  RETURNING id AS booking_id \gset
UPDATE event_seats SET status = 'sold', booking_id = ':booking_id'
  WHERE event_id = (SELECT id FROM pgb_events WHERE n = :e)
    AND sort_key IN (:k, :k + 1) AND status = 'available';
UPDATE event_stock SET available = available - 2, sold = sold + 2
  WHERE event_id = ':ga_id' AND bucket = 0 AND available >= 2;
COMMIT;
