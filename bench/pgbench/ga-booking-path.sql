-- One whole general-admission booking as the database sees it from Evently: the same
-- statements, in the same transactions, that a hold, a booking (saga start, charge result,
-- confirmation, the answer's reads), the outbox relay and the consumers (analytics,
-- notifications, live seat counts) send for one ticket, with the counter triggers of
-- migration 008. One pgbench "transaction" of this script is one booking, so its tps is the
-- most bookings/s this machine's PostgreSQL can do for Evently with no application CPU at
-- all. Run with -M prepared (Evently prepares its statements too); variables are parameters,
-- hence unquoted.
\set u random(1, 1000)
SELECT id AS user_id FROM pgb_users WHERE n = :u \gset

-- POST /events/:id/holds
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended(:user_id::text || ':' || :ga_id::text, 0));
SELECT e.*, (COALESCE((SELECT SUM(quantity) FROM holds WHERE user_id = :user_id AND event_id = e.id
                         AND status = 'active' AND expires_at > now()), 0)
           + COALESCE((SELECT SUM(quantity) FROM bookings WHERE user_id = :user_id AND event_id = e.id
                         AND status = 'confirmed'), 0))::int AS owned_by_user
  FROM events e WHERE e.id = :ga_id;
SELECT * FROM holds WHERE status = 'active' AND expires_at <= now() AND event_id = :ga_id
  ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED;
INSERT INTO holds (event_id, user_id, quantity, total_cents, currency, expires_at)
  VALUES (:ga_id, :user_id, 1, 5000, 'EUR', now() + interval '30 minutes')
  RETURNING id AS hold_id \gset
INSERT INTO outbox (type, aggregate_type, aggregate_id, payload)
  VALUES ('seats.held', 'event', :ga_id, jsonb_build_object('holdId', :hold_id::text, 'quantity', 1))
  RETURNING id AS held_message \gset
INSERT INTO audit_log (actor_id, actor_role, action, target_type, target_id, ip, request_id, after)
  VALUES (:user_id, 'user', 'hold.created', 'hold', :hold_id, '127.0.0.1', 'req',
          jsonb_build_object('eventId', :ga_id::text, 'quantity', 1));
COMMIT;

-- POST /bookings: the saga's start
BEGIN;
SELECT * FROM holds WHERE id = :hold_id;
INSERT INTO bookings (event_id, user_id, hold_id, quantity, total_cents, currency)
  VALUES (:ga_id, :user_id, :hold_id, 1, 5000, 'EUR')
  ON CONFLICT (hold_id) WHERE status IN ('pending', 'confirmed') DO NOTHING
  RETURNING id AS booking_id \gset
INSERT INTO sagas (type, booking_id, step, payload, locked_until)
  VALUES ('booking', :booking_id, 'charge', jsonb_build_object('holdId', :hold_id::text),
          now() + interval '30 seconds') RETURNING id AS saga_id \gset
COMMIT;
-- the charge's result
UPDATE sagas SET step = 'confirm', status = 'running',
       payload = payload || jsonb_build_object('chargeId', 'ch_1'),
       locked_until = now() + interval '30 seconds', updated_at = now()
  WHERE id = :saga_id;
-- the confirmation
BEGIN;
SELECT * FROM holds WHERE id = :hold_id AND status = 'active' FOR UPDATE;
UPDATE event_seats SET status = 'sold', hold_id = NULL, booking_id = :booking_id
  WHERE hold_id = :hold_id;
INSERT INTO tickets (booking_id, event_id, seat_id, code)
  VALUES (:booking_id, :ga_id, NULL, md5(:booking_id::text));
UPDATE bookings SET status = 'confirmed', payment_ref = 'ch_1', confirmed_at = now(),
       updated_at = now() WHERE id = :booking_id;
UPDATE holds SET status = 'converted', released_at = NULL WHERE id = :hold_id;
INSERT INTO audit_log (actor_id, actor_role, action, target_type, target_id, ip, request_id, after)
  VALUES (:user_id, 'user', 'booking.confirmed', 'booking', :booking_id, '127.0.0.1', 'req',
          jsonb_build_object('eventId', :ga_id::text, 'quantity', 1));
INSERT INTO outbox (type, aggregate_type, aggregate_id, payload)
  VALUES ('booking.confirmed', 'booking', :booking_id, jsonb_build_object('quantity', 1))
  RETURNING id AS confirmed_message \gset
UPDATE sagas SET step = 'done', status = 'completed', locked_until = NULL, finished_at = now(),
       updated_at = now() WHERE id = :saga_id;
COMMIT;
-- the answer
SELECT b.*,
  COALESCE((SELECT json_agg(json_build_object('id', t.id, 'seat_id', t.seat_id, 'code', t.code,
                                              'status', t.status) ORDER BY t.created_at, t.id)
            FROM tickets t WHERE t.booking_id = b.id), '[]'::json) AS tickets,
  (SELECT json_build_object('id', s.id, 'type', s.type, 'status', s.status, 'step', s.step,
                            'attempts', s.attempts, 'last_error', s.last_error)
   FROM sagas s WHERE s.booking_id = b.id ORDER BY s.created_at DESC LIMIT 1) AS saga
FROM bookings b WHERE b.id = :booking_id;

-- the outbox relay marks the two messages published
UPDATE outbox SET published_at = now(), attempts = attempts + 1
  WHERE id IN (:held_message, :confirmed_message);

-- the analytics consumer: one statement
WITH taken AS (
  INSERT INTO processed_messages (consumer, message_id) VALUES ('analytics', gen_random_uuid())
  ON CONFLICT DO NOTHING RETURNING message_id),
fact AS (
  SELECT event_id, confirmed_at AS at, 1 AS bookings, quantity AS tickets,
         total_cents::bigint AS revenue_cents, 0 AS cancellations, 0 AS cancelled_tickets,
         0::bigint AS refunded_cents, (:u::int % 8)::smallint AS shard
  FROM bookings
  WHERE id = :booking_id AND confirmed_at IS NOT NULL AND EXISTS (SELECT 1 FROM taken)),
platform_hour AS (
  INSERT INTO analytics_platform_hourly AS t (hour, bookings, tickets, revenue_cents, cancellations,
                                              cancelled_tickets, refunded_cents, shard)
  SELECT date_trunc('hour', at, 'UTC'), bookings, tickets, revenue_cents, cancellations,
         cancelled_tickets, refunded_cents, shard FROM fact
  ON CONFLICT (hour, shard) DO UPDATE SET bookings = t.bookings + EXCLUDED.bookings,
    tickets = t.tickets + EXCLUDED.tickets, revenue_cents = t.revenue_cents + EXCLUDED.revenue_cents),
event_hour AS (
  INSERT INTO analytics_event_hourly AS t (event_id, hour, bookings, tickets, revenue_cents,
                                           cancellations, cancelled_tickets, refunded_cents, shard)
  SELECT event_id, date_trunc('hour', at, 'UTC'), bookings, tickets, revenue_cents, cancellations,
         cancelled_tickets, refunded_cents, shard FROM fact
  ON CONFLICT (event_id, hour, shard) DO UPDATE SET bookings = t.bookings + EXCLUDED.bookings,
    tickets = t.tickets + EXCLUDED.tickets, revenue_cents = t.revenue_cents + EXCLUDED.revenue_cents)
INSERT INTO analytics_event_daily AS t (event_id, day, bookings, tickets, revenue_cents,
                                        cancellations, cancelled_tickets, refunded_cents, shard)
SELECT event_id, (at AT TIME ZONE 'UTC')::date, bookings, tickets, revenue_cents, cancellations,
       cancelled_tickets, refunded_cents, shard FROM fact
ON CONFLICT (event_id, day, shard) DO UPDATE SET bookings = t.bookings + EXCLUDED.bookings,
  tickets = t.tickets + EXCLUDED.tickets, revenue_cents = t.revenue_cents + EXCLUDED.revenue_cents;

-- the notifications consumer: one statement (no email configured, as in the bench)
WITH taken AS (
  INSERT INTO processed_messages (consumer, message_id) VALUES ('notifications', gen_random_uuid())
  ON CONFLICT DO NOTHING RETURNING message_id)
INSERT INTO notifications (user_id, type, title, body, data)
SELECT :user_id, 'booking.confirmed', 'Booking confirmed', 'Your ticket', '{}'
WHERE EXISTS (SELECT 1 FROM taken);

-- the live seat-count consumer (seats.held, booking.confirmed; in a rush the reads of one
-- event are shared, so this is an upper bound)
SELECT available, held, sold FROM events WHERE id = :ga_id;
SELECT available, held, sold FROM events WHERE id = :ga_id;
