-- Booking path v2: a hold is one statement, a confirmation is one statement, and requests
-- for the same event that arrive together share that statement (application-level group
-- commit, src/modules/holds/group-commit.ts). Each function takes a batch as a JSON array and
-- answers one row per request; a refusal is a row, never an exception, so one request's
-- refusal does not fail the others in its batch.
--
-- Lock order, everywhere: hold rows, then seat rows (in id order), then the event row last,
-- by the final update of its counters. Inside one statement the locks live for the
-- statement and its commit, never across a client round trip.
--
-- The counters: the functions move the event's counters themselves, once per batch, and
-- mark the hold rows they write with counters_moved, which the deferred triggers of
-- migration 008 skip. Every other writer of a hold's status (release, expiry, event
-- cancellation) sets counters_moved = false and the triggers move the counters as before.

ALTER TABLE holds ADD COLUMN counters_moved boolean NOT NULL DEFAULT false;

DROP TRIGGER holds_move_inventory_on_insert ON holds;
DROP TRIGGER holds_move_inventory_on_status ON holds;

CREATE CONSTRAINT TRIGGER holds_move_inventory_on_insert
  AFTER INSERT ON holds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  WHEN (NOT NEW.counters_moved)
  EXECUTE FUNCTION holds_move_inventory();

CREATE CONSTRAINT TRIGGER holds_move_inventory_on_status
  AFTER UPDATE OF status ON holds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status AND NOT NEW.counters_moved)
  EXECUTE FUNCTION holds_move_inventory();

-- 16 random bytes as unpadded base64url (22 characters), like the application's ticket
-- codes: the random bytes of two version-4 UUIDs (their fixed version and variant bits left
-- out), from the server's strong random source.
CREATE FUNCTION new_ticket_code() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT translate(rtrim(encode(
           substring(a FROM 1 FOR 6) || substring(a FROM 10 FOR 7) || substring(b FROM 1 FOR 3),
           'base64'), '='), '+/', '-_')
  FROM (SELECT uuid_send(gen_random_uuid()) AS a, uuid_send(gen_random_uuid()) AS b) r
$$;

-- Holds for one event. Each request: {holdId, userId, seatIds | quantity, expiresAt,
-- audit: {actorId, actorRole, ip, requestId}, idempotency: {scope, key} | null,
-- traceContext | null}. Answers per request (idx = its position):
--   HELD                  seat_ids, total_cents, currency
--   NOT_FOUND             no such event (or a draft)
--   SALES_CLOSED          detail: status, salesStartAt, closesAt
--   WRONG_SEATING         detail: seating (seatIds for a GA event or the reverse)
--   TICKET_LIMIT_EXCEEDED detail: owned, max
--   DUPLICATE_SEATS       the same seat asked for twice
--   UNKNOWN_SEATS         seat_ids: the ids that are not seats of the event
--   SEAT_UNAVAILABLE      seat_ids: the requested seats that are held or sold
--   SOLD_OUT              general admission: fewer tickets left than asked
CREATE FUNCTION hold_batch_attempt(p_event_id uuid, p_now timestamptz, p_async_commit boolean,
                                   p_requests jsonb, p_lock_first boolean)
RETURNS TABLE (idx integer, outcome text, seat_ids uuid[], total_cents integer,
               currency text, detail jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  n integer := jsonb_array_length(p_requests);
  ev record;
  r jsonb;
  i integer;
  v_reserved boolean;
  v_exists boolean;
  v_closes timestamptz;
  v_all_seats uuid[];
  v_expired record;
  v_freed integer := 0;
  v_taken integer := 0;
  v_available integer;
  v_user uuid;
  v_hold uuid;
  v_wanted uuid[];
  v_got uuid[];
  v_unknown uuid[];
  v_qty integer;
  v_total integer;
  v_owned integer;
  v_view jsonb;
  v_refused_sold_out boolean := false;
BEGIN
  IF p_async_commit THEN
    -- The hold commits without waiting for the WAL flush (HOLD_ASYNC_COMMIT).
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;

  -- One user's holds on one event take turns (the per-user ticket limit is counted under it),
  -- taken in one order by every batch.
  PERFORM pg_advisory_xact_lock(hashtextextended(u || ':' || p_event_id::text, 0))
  FROM (SELECT DISTINCT x->>'userId' AS u FROM jsonb_array_elements(p_requests) x ORDER BY 1) s;

  SELECT e.seating INTO ev FROM events e WHERE e.id = p_event_id;
  v_exists := FOUND;
  v_reserved := v_exists AND ev.seating = 'reserved';

  IF v_reserved THEN
    SELECT array_agg(DISTINCT s::uuid) INTO v_all_seats
    FROM jsonb_array_elements(p_requests) x, jsonb_array_elements_text(x->'seatIds') s
    WHERE x ? 'seatIds';
    -- Expired holds in the way are freed first (an expired hold never blocks anyone). One
    -- that another transaction has locked (a sweeper) is skipped: never a wait, never a
    -- deadlock, and its seats count as taken for this batch.
    FOR v_expired IN
      SELECT h.id, h.user_id, h.quantity FROM holds h
      WHERE h.id IN (SELECT es.hold_id FROM event_seats es
                     WHERE es.event_id = p_event_id AND es.id = ANY(v_all_seats)
                       AND es.status = 'held')
        AND h.status = 'active' AND h.expires_at <= p_now
      ORDER BY h.id
      FOR UPDATE OF h SKIP LOCKED
    LOOP
      PERFORM release_hold_in_batch(p_event_id, v_expired.id, v_expired.user_id,
                                    v_expired.quantity, p_now);
      v_freed := v_freed + v_expired.quantity;
    END LOOP;
    -- The seats this batch may take, locked in id order. Seats that are held or sold are
    -- not locked (nor waited for): they are refused below.
    PERFORM 1 FROM event_seats
    WHERE event_id = p_event_id AND id = ANY(v_all_seats) AND status = 'available'
    ORDER BY id FOR UPDATE;
  ELSIF v_exists THEN
    FOR v_expired IN
      SELECT h.id, h.user_id, h.quantity FROM holds h
      WHERE h.event_id = p_event_id AND h.status = 'active' AND h.expires_at <= p_now
      ORDER BY h.id LIMIT 100
      FOR UPDATE SKIP LOCKED
    LOOP
      PERFORM release_hold_in_batch(p_event_id, v_expired.id, v_expired.user_id,
                                    v_expired.quantity, p_now);
      v_freed := v_freed + v_expired.quantity;
    END LOOP;
  END IF;

  -- The event row last. Optimistically it is read without a lock, and its counters are
  -- moved at the very end, so its lock lasts only that update and the commit (a hold batch
  -- and a confirmation batch of one event then overlap instead of taking turns); the final
  -- update refuses to move counters that changed under the decisions (EV002), and the batch
  -- is run again with the row locked first. NO KEY UPDATE does not block other
  -- transactions' hold inserts (their foreign keys take KEY SHARE).
  IF p_lock_first THEN
    SELECT e.status, e.seating, e.sales_start_at, e.sales_end_at, e.starts_at, e.available,
           e.max_tickets_per_user, e.price_cents, e.currency
    INTO ev FROM events e WHERE e.id = p_event_id FOR NO KEY UPDATE;
  ELSE
    SELECT e.status, e.seating, e.sales_start_at, e.sales_end_at, e.starts_at, e.available,
           e.max_tickets_per_user, e.price_cents, e.currency
    INTO ev FROM events e WHERE e.id = p_event_id;
  END IF;
  IF NOT FOUND OR ev.status = 'draft' THEN
    RETURN QUERY SELECT g.i, 'NOT_FOUND'::text, NULL::uuid[], NULL::integer, NULL::text,
                        NULL::jsonb
                 FROM generate_series(0, n - 1) g(i);
    RETURN;
  END IF;
  v_available := ev.available + v_freed;
  v_closes := coalesce(ev.sales_end_at, ev.starts_at);

  FOR i IN 0 .. n - 1 LOOP
    r := p_requests->i;
    v_user := (r->>'userId')::uuid;
    v_hold := (r->>'holdId')::uuid;
    IF ev.status = 'cancelled' OR (ev.sales_start_at IS NOT NULL AND p_now < ev.sales_start_at)
       OR p_now >= v_closes THEN
      RETURN QUERY SELECT i, 'SALES_CLOSED'::text, NULL::uuid[], NULL::integer, NULL::text,
        jsonb_build_object('status', ev.status, 'salesStartAt', ev.sales_start_at,
                           'closesAt', v_closes);
      CONTINUE;
    END IF;
    IF (r ? 'seatIds') <> (ev.seating = 'reserved') THEN
      RETURN QUERY SELECT i, 'WRONG_SEATING'::text, NULL::uuid[], NULL::integer, NULL::text,
        jsonb_build_object('seating', ev.seating);
      CONTINUE;
    END IF;
    IF ev.seating = 'reserved' THEN
      v_wanted := ARRAY(SELECT s::uuid FROM jsonb_array_elements_text(r->'seatIds') s);
      v_qty := cardinality(v_wanted);
      -- The same seat twice (ids differing only in letter case pass the body's uniqueItems).
      IF v_qty <> (SELECT count(DISTINCT w) FROM unnest(v_wanted) w) THEN
        RETURN QUERY SELECT i, 'DUPLICATE_SEATS'::text, NULL::uuid[], NULL::integer, NULL::text,
                            NULL::jsonb;
        CONTINUE;
      END IF;
    ELSE
      v_qty := (r->>'quantity')::integer;
    END IF;

    SELECT coalesce((SELECT sum(h.quantity) FROM holds h
                     WHERE h.user_id = v_user AND h.event_id = p_event_id
                       AND h.status = 'active' AND h.expires_at > p_now), 0)
         + coalesce((SELECT sum(b.quantity) FROM bookings b
                     WHERE b.user_id = v_user AND b.event_id = p_event_id
                       AND b.status = 'confirmed'), 0)
    INTO v_owned;
    IF v_owned + v_qty > ev.max_tickets_per_user THEN
      RETURN QUERY SELECT i, 'TICKET_LIMIT_EXCEEDED'::text, NULL::uuid[], NULL::integer,
        NULL::text, jsonb_build_object('owned', v_owned, 'max', ev.max_tickets_per_user);
      CONTINUE;
    END IF;

    IF ev.seating = 'reserved' THEN
      SELECT array_agg(es.id ORDER BY es.id), sum(es.price_cents)::integer
      INTO v_got, v_total
      FROM event_seats es
      WHERE es.event_id = p_event_id AND es.id = ANY(v_wanted) AND es.status = 'available';
      IF coalesce(cardinality(v_got), 0) < v_qty THEN
        v_unknown := ARRAY(SELECT w FROM unnest(v_wanted) w
                           WHERE NOT EXISTS (SELECT 1 FROM event_seats es
                                             WHERE es.id = w AND es.event_id = p_event_id));
        IF cardinality(v_unknown) > 0 THEN
          RETURN QUERY SELECT i, 'UNKNOWN_SEATS'::text, v_unknown, NULL::integer, NULL::text,
                              NULL::jsonb;
        ELSE
          RETURN QUERY SELECT i, 'SEAT_UNAVAILABLE'::text,
            ARRAY(SELECT w FROM unnest(v_wanted) w WHERE NOT (w = ANY(coalesce(v_got, '{}')))),
            NULL::integer, NULL::text, NULL::jsonb;
        END IF;
        CONTINUE;
      END IF;
    ELSE
      IF v_available < v_qty THEN
        v_refused_sold_out := true;
        RETURN QUERY SELECT i, 'SOLD_OUT'::text, NULL::uuid[], NULL::integer, NULL::text,
          jsonb_build_object('available', v_available);
        CONTINUE;
      END IF;
      v_got := '{}';
      v_total := v_qty * ev.price_cents;
    END IF;

    INSERT INTO holds (id, event_id, user_id, quantity, total_cents, currency, expires_at,
                       counters_moved)
    VALUES (v_hold, p_event_id, v_user, v_qty, v_total, ev.currency,
            (r->>'expiresAt')::timestamptz, true);
    IF ev.seating = 'reserved' THEN
      UPDATE event_seats SET status = 'held', hold_id = v_hold WHERE id = ANY(v_got);
      INSERT INTO hold_seats (hold_id, seat_id) SELECT v_hold, s FROM unnest(v_got) s;
    END IF;
    v_available := v_available - v_qty;
    v_taken := v_taken + v_qty;

    v_view := jsonb_build_object('id', v_hold, 'eventId', p_event_id, 'seatIds', to_jsonb(v_got),
                                 'quantity', v_qty, 'totalCents', v_total,
                                 'currency', ev.currency, 'expiresAt', r->>'expiresAt');
    INSERT INTO audit_log (actor_id, actor_role, action, target_type, target_id, ip, request_id,
                           after)
    VALUES ((r->'audit'->>'actorId')::uuid, r->'audit'->>'actorRole', 'hold.created', 'hold',
            v_hold::text, r->'audit'->>'ip', r->'audit'->>'requestId', v_view - 'id');
    INSERT INTO outbox (aggregate_type, aggregate_id, type, payload, trace_context)
    VALUES ('event', p_event_id, 'seats.held',
            jsonb_build_object('holdId', v_hold, 'eventId', p_event_id, 'userId', v_user,
                               'seatIds', to_jsonb(v_got), 'quantity', v_qty,
                               'expiresAt', r->>'expiresAt'),
            r->'traceContext');
    IF jsonb_typeof(r->'idempotency') = 'object' THEN
      UPDATE idempotency_keys k
      SET status_code = 201, response = v_view, locked_until = NULL
      WHERE k.user_id = v_user AND k.scope = r->'idempotency'->>'scope'
        AND k.key = r->'idempotency'->>'key';
    END IF;
    RETURN QUERY SELECT i, 'HELD'::text, v_got, v_total, ev.currency::text, NULL::jsonb;
  END LOOP;

  IF v_taken <> 0 OR v_freed <> 0 THEN
    UPDATE events SET available = available - v_taken + v_freed,
                      held = held + v_taken - v_freed
    WHERE id = p_event_id
      AND (p_lock_first
           OR (status = 'published' AND available - v_taken + v_freed >= 0
               -- a SOLD_OUT answer was decided on the figure read: it must still stand
               AND (NOT v_refused_sold_out OR available = ev.available)));
    IF NOT FOUND THEN
      RAISE EXCEPTION 'the inventory of event % moved under the batch', p_event_id
        USING ERRCODE = 'EV002';
    END IF;
  END IF;
END;
$$;

CREATE FUNCTION hold_batch(p_event_id uuid, p_now timestamptz, p_async_commit boolean,
                           p_requests jsonb)
RETURNS TABLE (idx integer, outcome text, seat_ids uuid[], total_cents integer,
               currency text, detail jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    RETURN QUERY SELECT * FROM hold_batch_attempt(p_event_id, p_now, p_async_commit,
                                                  p_requests, false);
    RETURN;
  EXCEPTION WHEN SQLSTATE 'EV002' THEN
    -- Everything of the first attempt was rolled back (its subtransaction); again, with the
    -- event row locked before any decision.
  END;
  RETURN QUERY SELECT * FROM hold_batch_attempt(p_event_id, p_now, p_async_commit,
                                                p_requests, true);
END;
$$;

-- An expired hold found in a batch's way: seats back, hold expired, the release announced.
-- The caller has locked the hold and moves the event's counters (held → available).
CREATE FUNCTION release_hold_in_batch(p_event_id uuid, p_hold_id uuid, p_user_id uuid,
                                      p_quantity integer, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_seats uuid[];
BEGIN
  UPDATE holds SET status = 'expired', released_at = p_now, counters_moved = true
  WHERE id = p_hold_id;
  WITH freed AS (
    UPDATE event_seats SET status = 'available', hold_id = NULL
    WHERE hold_id = p_hold_id RETURNING id
  )
  SELECT coalesce(array_agg(id), '{}') INTO v_seats FROM freed;
  INSERT INTO outbox (aggregate_type, aggregate_id, type, payload)
  VALUES ('event', p_event_id, 'seats.released',
          jsonb_build_object('holdId', p_hold_id, 'eventId', p_event_id,
                             'seatIds', to_jsonb(v_seats), 'quantity', p_quantity,
                             'reason', 'expired', 'userId', p_user_id));
END;
$$;

-- Confirmations for one event after successful charges. Each request: {sagaId, lockedUntil
-- (the driver's lease), bookingId, holdId, userId, chargeId, amountCents, currency, payload
-- (the saga's, with the charge), audit, traceContext}. Answers per request:
--   CONFIRMED  detail: the booking's view (row, tickets, saga)
--   LATE       the hold is no longer active or has expired: the caller refunds
--   CLOSED     the event is no longer published: the caller refunds
--   SETTLED    the booking is not pending any more (a repeat): nothing done
--   LEASE_LOST the saga is no longer this driver's (its lease ran out and another driver
--              took it over, or it finished): nothing done, the other driver decides
CREATE FUNCTION confirm_batch_attempt(p_event_id uuid, p_now timestamptz, p_requests jsonb,
                                      p_lock_first boolean)
RETURNS TABLE (idx integer, outcome text, detail jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  n integer := jsonb_array_length(p_requests);
  r jsonb;
  i integer;
  v_status text;
  v_hold record;
  v_booking uuid;
  v_seats uuid[];
  v_sold integer := 0;
  v_payload jsonb;
BEGIN
  -- Hold rows first, in id order; then (per request) seats; the event row last.
  PERFORM 1 FROM holds h
  WHERE h.id IN (SELECT (x->>'holdId')::uuid FROM jsonb_array_elements(p_requests) x)
  ORDER BY h.id FOR UPDATE;
  -- The event row: read unlocked, its counters moved at the end (as in hold_batch_attempt);
  -- locked first on the second attempt.
  IF p_lock_first THEN
    SELECT e.status INTO v_status FROM events e WHERE e.id = p_event_id FOR NO KEY UPDATE;
  ELSE
    SELECT e.status INTO v_status FROM events e WHERE e.id = p_event_id;
  END IF;

  FOR i IN 0 .. n - 1 LOOP
    r := p_requests->i;
    v_booking := (r->>'bookingId')::uuid;
    IF NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = v_booking AND b.status = 'pending') THEN
      RETURN QUERY SELECT i, 'SETTLED'::text, NULL::jsonb;
      CONTINUE;
    END IF;
    -- Only the driver holding the saga's lease may sell: a driver whose step outlived its
    -- lease must not confirm what the driver that took over may be compensating. The row
    -- lock keeps a takeover out until this commits (and then the saga is finished).
    PERFORM 1 FROM sagas s
    WHERE s.id = (r->>'sagaId')::uuid AND s.status = 'running'
      AND s.locked_until IS NOT DISTINCT FROM (r->>'lockedUntil')::timestamptz
    FOR UPDATE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT i, 'LEASE_LOST'::text, NULL::jsonb;
      CONTINUE;
    END IF;
    SELECT h.id, h.quantity, h.event_id INTO v_hold FROM holds h
    WHERE h.id = (r->>'holdId')::uuid AND h.status = 'active' AND h.expires_at > p_now;
    IF NOT FOUND THEN
      RETURN QUERY SELECT i, 'LATE'::text, NULL::jsonb;
      CONTINUE;
    END IF;
    IF v_status IS DISTINCT FROM 'published' THEN
      RETURN QUERY SELECT i, 'CLOSED'::text, NULL::jsonb;
      CONTINUE;
    END IF;

    WITH sold AS (
      UPDATE event_seats SET status = 'sold', hold_id = NULL, booking_id = v_booking
      WHERE hold_id = v_hold.id RETURNING id
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_seats FROM sold;
    INSERT INTO tickets (booking_id, event_id, seat_id, code)
    SELECT v_booking, p_event_id, s, new_ticket_code()
    FROM (SELECT unnest(v_seats) AS s
          UNION ALL
          SELECT NULL FROM generate_series(1, v_hold.quantity)
          WHERE cardinality(v_seats) = 0) t;
    UPDATE bookings SET status = 'confirmed', payment_ref = r->>'chargeId', confirmed_at = p_now,
                        updated_at = p_now
    WHERE id = v_booking;
    UPDATE holds SET status = 'converted', released_at = NULL, counters_moved = true
    WHERE id = v_hold.id;
    v_sold := v_sold + v_hold.quantity;

    INSERT INTO audit_log (actor_id, actor_role, action, target_type, target_id, ip, request_id,
                           before, after)
    VALUES ((r->'audit'->>'actorId')::uuid, coalesce(r->'audit'->>'actorRole', 'system'),
            'booking.confirmed', 'booking', v_booking::text, r->'audit'->>'ip',
            r->'audit'->>'requestId', '{"status":"pending"}'::jsonb,
            jsonb_build_object('status', 'confirmed', 'eventId', p_event_id,
                               'holdId', v_hold.id, 'quantity', v_hold.quantity,
                               'seatIds', to_jsonb(v_seats),
                               'totalCents', (r->>'amountCents')::integer,
                               'currency', r->>'currency', 'chargeId', r->>'chargeId'));
    INSERT INTO outbox (aggregate_type, aggregate_id, type, payload, trace_context)
    VALUES ('booking', v_booking, 'booking.confirmed',
            jsonb_build_object('bookingId', v_booking, 'userId', r->>'userId',
                               'eventId', p_event_id, 'quantity', v_hold.quantity,
                               'seatIds', to_jsonb(v_seats),
                               'totalCents', (r->>'amountCents')::integer,
                               'currency', r->>'currency'),
            r->'traceContext');
    -- The charge's result and the end of the saga are recorded with the sale itself.
    v_payload := r->'payload';
    UPDATE sagas SET step = 'done', status = 'completed', payload = v_payload,
                     locked_until = NULL, finished_at = p_now, updated_at = p_now
    WHERE id = (r->>'sagaId')::uuid;

    RETURN QUERY
    SELECT i, 'CONFIRMED'::text, jsonb_build_object(
      'booking', to_jsonb(b),
      'tickets', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                          'id', t.id, 'seat_id', t.seat_id, 'code', t.code, 'status', t.status)
                        ORDER BY t.created_at, t.id), '[]'::jsonb)
                  FROM tickets t WHERE t.booking_id = b.id),
      'saga', (SELECT jsonb_build_object('id', s.id, 'type', s.type, 'status', s.status,
                                         'step', s.step, 'attempts', s.attempts,
                                         'last_error', s.last_error)
               FROM sagas s WHERE s.id = (r->>'sagaId')::uuid))
    FROM bookings b WHERE b.id = v_booking;
  END LOOP;

  IF v_sold <> 0 THEN
    -- Sold only while the event is on sale: a cancellation that committed meanwhile sends
    -- the batch round again, locked, where its confirmations are answered CLOSED.
    UPDATE events SET held = held - v_sold, sold = sold + v_sold
    WHERE id = p_event_id AND (p_lock_first OR status = 'published');
    IF NOT FOUND THEN
      RAISE EXCEPTION 'event % left sale under the batch', p_event_id USING ERRCODE = 'EV002';
    END IF;
  END IF;
END;
$$;

CREATE FUNCTION confirm_batch(p_event_id uuid, p_now timestamptz, p_requests jsonb)
RETURNS TABLE (idx integer, outcome text, detail jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    RETURN QUERY SELECT * FROM confirm_batch_attempt(p_event_id, p_now, p_requests, false);
    RETURN;
  EXCEPTION WHEN SQLSTATE 'EV002' THEN
    -- rolled back whole: again, with the event row locked first
  END;
  RETURN QUERY SELECT * FROM confirm_batch_attempt(p_event_id, p_now, p_requests, true);
END;
$$;
