-- The reserved-seating booking core: a booking row plus a conditional update of 2 adjacent
-- seats (available -> sold). 25 events x 20,000 seats, so random pairs rarely collide.
-- Variables: :user_id (pgbench -D), :e and :k drawn per transaction.
\set e random(1, 25)
\set k random(1, 19999)
BEGIN;
INSERT INTO bookings (event_id, user_id, status, quantity, total_cents, currency)
  SELECT id, ':user_id', 'confirmed', 2, 10000, 'EUR' FROM pgb_events WHERE n = :e
  RETURNING id AS booking_id \gset
UPDATE event_seats SET status = 'sold', booking_id = ':booking_id'
  WHERE event_id = (SELECT id FROM pgb_events WHERE n = :e)
    AND sort_key IN (:k, :k + 1) AND status = 'available';
COMMIT;
