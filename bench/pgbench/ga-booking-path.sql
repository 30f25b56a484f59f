-- One whole general-admission booking as the database sees it from Evently (booking path
-- v2): the hold statement, the booking's start and its confirmation (migrations 010, 012, 013),
-- the outbox relay and the consumers (analytics, notifications, live seat counts) for one
-- ticket, each as a batch of one (a rush batches them, so this is the floor of what a rush
-- costs per booking). One pgbench "transaction" of this script is one booking, so its tps is the
-- most bookings/s this machine's PostgreSQL can do for Evently with no application CPU at
-- all. Run with -M prepared (Evently prepares its statements too); variables are parameters,
-- hence unquoted.
\set u random(1, 1000)
SELECT id AS user_id FROM pgb_users WHERE n = :u \gset

-- POST /events/:id/holds: one statement (migration 010), here a batch of one request
SELECT gen_random_uuid() AS hold_id, gen_random_uuid() AS booking_id \gset
SELECT outcome FROM hold_batch(:ga_id, now(), false, jsonb_build_array(jsonb_build_object(
  'holdId', :hold_id::text, 'userId', :user_id::text, 'quantity', 1,
  'expiresAt', (now() + interval '30 minutes')::text,
  'audit', jsonb_build_object('actorId', :user_id::text, 'actorRole', 'user', 'ip', '127.0.0.1',
                              'requestId', 'req'),
  'idempotency', NULL, 'traceContext', NULL)));

-- POST /bookings: the saga's start, one statement (migration 012)
SELECT (saga->>'id') AS saga_id FROM start_booking_batch(now(), jsonb_build_array(jsonb_build_object(
  'bookingId', :booking_id::text, 'holdId', :hold_id::text, 'userId', :user_id::text,
  'token', 'tok_visa',
  'audit', jsonb_build_object('actorId', :user_id::text, 'actorRole', 'user', 'ip', '127.0.0.1',
                              'requestId', 'req'),
  'lockedUntil', (now() + interval '30 seconds')::text, 'queue', false, 'traceContext', NULL))) \gset
-- (the charge, outside the database) then the confirmation with the charge's result and the
-- booking's answer, one statement (migration 010)
SELECT outcome FROM confirm_batch(:ga_id, now(), jsonb_build_array(jsonb_build_object(
  'sagaId', :saga_id::text, 'bookingId', :booking_id::text, 'holdId', :hold_id::text,
  'userId', :user_id::text, 'chargeId', 'ch_1', 'amountCents', 5000, 'currency', 'EUR',
  'payload', jsonb_build_object('holdId', :hold_id::text, 'chargeId', 'ch_1'),
  'audit', jsonb_build_object('actorId', :user_id::text, 'actorRole', 'user', 'ip', '127.0.0.1',
                              'requestId', 'req'),
  'traceContext', NULL)));

-- the outbox relay marks the two messages published (in a rush it marks up to 200 at once)
UPDATE outbox SET published_at = now(), attempts = attempts + 1
  WHERE published_at IS NULL
    AND (aggregate_id = :booking_id OR (aggregate_id = :ga_id AND payload->>'holdId' = :hold_id));

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
SELECT available, held, sold FROM events_with_inventory WHERE id = :ga_id;
SELECT available, held, sold FROM events_with_inventory WHERE id = :ga_id;
