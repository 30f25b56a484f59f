-- No single hot row (booking path v2, issue 11). Until now every hold batch and every sale
-- batch of an event ended by updating that event's one row (available, held, sold), so the
-- hold and sale batches of one event took turns on its lock and its commit.
--
-- Now an event's counters are split into 8 stock buckets (event_stock). A hold batch moves
-- one bucket chosen at random, and a hold remembers it (holds.bucket) so that its release,
-- expiry or sale moves that bucket. When the chosen bucket runs short, the batch locks every
-- bucket of the event (in bucket order), decides on their total and spreads what is left
-- evenly again: SOLD_OUT is always a decision on the whole stock. Each bucket is exact by
-- CHECK (available + held + sold = capacity, none negative) and the buckets' capacities add
-- up to the event's, checked at commit. For reserved seating the seat rows still decide
-- which seats are free; the buckets count them, so that reading the figures stays a sum of
-- eight rows instead of a count of every seat.
--
-- Readers get the figures from the view events_with_inventory (the event row and its
-- available / held / sold). The event row is still read by every batch, with FOR KEY SHARE,
-- which hold and sale batches share (their foreign keys take the same lock) and which makes a
-- cancellation (FOR UPDATE first) wait for the batches under way: a sale never commits after
-- the cancellation that would have refunded it.
--
-- Lock order, everywhere: hold rows, seat rows (in id order), then the buckets in
-- (event_id, bucket) order, at the end of the statement or inside the commit.

CREATE TABLE event_stock (
  event_id  uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  bucket    smallint NOT NULL CHECK (bucket BETWEEN 0 AND 7),
  capacity  integer NOT NULL CHECK (capacity >= 0),
  available integer NOT NULL CHECK (available >= 0),
  held      integer NOT NULL DEFAULT 0 CHECK (held >= 0),
  sold      integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  PRIMARY KEY (event_id, bucket),
  CONSTRAINT event_stock_balanced CHECK (available + held + sold = capacity)
);

-- The bucket whose counters a hold moved.
ALTER TABLE holds ADD COLUMN bucket smallint NOT NULL DEFAULT 0 CHECK (bucket BETWEEN 0 AND 7);

-- `total` tickets spread over 8 buckets: the first `total % 8` get one more.
CREATE FUNCTION event_stock_share(p_total integer, p_bucket integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_total / 8 + CASE WHEN p_bucket < p_total % 8 THEN 1 ELSE 0 END
$$;

-- Today's counters move into the buckets: what is held or sold into bucket 0 (the bucket of
-- every hold made before this migration), what is available spread over all eight.
INSERT INTO event_stock (event_id, bucket, capacity, available, held, sold)
SELECT e.id, b,
       event_stock_share(e.available, b) + CASE WHEN b = 0 THEN e.held + e.sold ELSE 0 END,
       event_stock_share(e.available, b),
       CASE WHEN b = 0 THEN e.held ELSE 0 END,
       CASE WHEN b = 0 THEN e.sold ELSE 0 END
FROM events e CROSS JOIN generate_series(0, 7) b;

ALTER TABLE events DROP CONSTRAINT events_inventory_balanced;
ALTER TABLE events DROP COLUMN available, DROP COLUMN held, DROP COLUMN sold;

-- Every event gets its buckets with its row.
CREATE FUNCTION events_create_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_stock (event_id, bucket, capacity, available)
  SELECT NEW.id, b, event_stock_share(NEW.capacity, b), event_stock_share(NEW.capacity, b)
  FROM generate_series(0, 7) b;
  RETURN NULL;
END;
$$;
CREATE TRIGGER events_create_stock AFTER INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION events_create_stock();

-- The buckets' capacities add up to the event's: checked at commit, whenever a bucket's
-- capacity or the event's changes (a rebalance or a resize; never on the booking path's
-- ordinary moves, which leave capacity alone).
CREATE FUNCTION event_stock_check_total() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_event uuid;
  v_capacity integer;
  v_sum integer;
BEGIN
  IF TG_TABLE_NAME = 'events' THEN
    v_event := NEW.id;
  ELSE
    v_event := NEW.event_id;
  END IF;
  SELECT e.capacity INTO v_capacity FROM events e WHERE e.id = v_event;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT coalesce(sum(s.capacity), 0) INTO v_sum FROM event_stock s WHERE s.event_id = v_event;
  IF v_sum <> v_capacity THEN
    RAISE EXCEPTION 'the stock buckets of event % hold % tickets, its capacity is %',
      v_event, v_sum, v_capacity USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER event_stock_total_on_bucket
  AFTER INSERT OR UPDATE OF capacity ON event_stock
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION event_stock_check_total();
CREATE CONSTRAINT TRIGGER event_stock_total_on_event
  AFTER UPDATE OF capacity ON events
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION event_stock_check_total();

-- Locks every bucket of an event (in bucket order), applies the given
-- moves (arrays indexed by bucket + 1) and spreads the available tickets evenly again, each
-- bucket's capacity following. `p_capacity` resizes the event: its available tickets are
-- then the new capacity less what is held and sold. Answers false, changing nothing, when
-- the moves or the resize would leave fewer than zero available.
CREATE FUNCTION event_stock_rebalance(p_event_id uuid, p_available_moves integer[],
                                      p_held_moves integer[], p_capacity integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_total integer;
BEGIN
  PERFORM 1 FROM event_stock WHERE event_id = p_event_id ORDER BY bucket FOR UPDATE;
  SELECT CASE WHEN p_capacity IS NULL
              THEN sum(s.available + coalesce(p_available_moves[s.bucket + 1], 0))
              ELSE p_capacity - sum(s.held + coalesce(p_held_moves[s.bucket + 1], 0) + s.sold)
         END
  INTO v_total FROM event_stock s WHERE s.event_id = p_event_id;
  IF v_total IS NULL OR v_total < 0 THEN
    RETURN false;
  END IF;
  UPDATE event_stock s
  SET held = s.held + coalesce(p_held_moves[s.bucket + 1], 0),
      available = event_stock_share(v_total, s.bucket),
      capacity = event_stock_share(v_total, s.bucket) + s.held
                 + coalesce(p_held_moves[s.bucket + 1], 0) + s.sold
  WHERE s.event_id = p_event_id;
  RETURN true;
END;
$$;

-- What readers see: the event and its inventory, the sums of its buckets.
CREATE VIEW events_with_inventory AS
SELECT e.*, i.available, i.held, i.sold
FROM events e
CROSS JOIN LATERAL (
  SELECT coalesce(sum(s.available), 0)::integer AS available,
         coalesce(sum(s.held), 0)::integer AS held,
         coalesce(sum(s.sold), 0)::integer AS sold
  FROM event_stock s WHERE s.event_id = e.id
) i;

-- A hold's counters, for the writers other than the batch statements (a release, an
-- expiry, a sale outside a batch): they move in the hold's bucket, at COMMIT.
CREATE OR REPLACE FUNCTION holds_move_inventory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status = 'active' THEN
      UPDATE event_stock SET available = available - NEW.quantity, held = held + NEW.quantity
      WHERE event_id = NEW.event_id AND bucket = NEW.bucket;
    END IF;
  ELSIF OLD.status = 'active' AND NEW.status IN ('released', 'expired') THEN
    UPDATE event_stock SET held = held - OLD.quantity, available = available + OLD.quantity
    WHERE event_id = OLD.event_id AND bucket = OLD.bucket;
  ELSIF OLD.status = 'active' AND NEW.status = 'converted' THEN
    IF NOT EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id AND status = 'published') THEN
      RAISE EXCEPTION 'event % is not on sale', OLD.event_id USING ERRCODE = 'EV001';
    END IF;
    UPDATE event_stock SET held = held - OLD.quantity, sold = sold + OLD.quantity
    WHERE event_id = OLD.event_id AND bucket = OLD.bucket;
  END IF;
  RETURN NULL;
END;
$$;

-- Holds for one event: as in migration 010, but the counters move in one random bucket (in
-- all of them, locked and spread evenly again, when it runs short).
CREATE OR REPLACE FUNCTION hold_batch_attempt(p_event_id uuid, p_now timestamptz,
                                              p_async_commit boolean, p_requests jsonb,
                                              p_lock_first boolean)
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
  v_bucket integer := floor(random() * 8)::integer;
  -- Moves per bucket (index = bucket + 1) of the expired holds this batch frees.
  v_freed_available integer[] := array_fill(0, ARRAY[8]);
  v_freed_held integer[] := array_fill(0, ARRAY[8]);
  v_freed integer := 0;
  v_locked boolean := false;
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
  b integer;
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
      SELECT h.id, h.user_id, h.quantity, h.bucket FROM holds h
      WHERE h.id IN (SELECT es.hold_id FROM event_seats es
                     WHERE es.event_id = p_event_id AND es.id = ANY(v_all_seats)
                       AND es.status = 'held')
        AND h.status = 'active' AND h.expires_at <= p_now
      ORDER BY h.id
      FOR UPDATE OF h SKIP LOCKED
    LOOP
      PERFORM release_hold_in_batch(p_event_id, v_expired.id, v_expired.user_id,
                                    v_expired.quantity, p_now);
      v_freed_available[v_expired.bucket + 1] :=
        v_freed_available[v_expired.bucket + 1] + v_expired.quantity;
      v_freed_held[v_expired.bucket + 1] := v_freed_held[v_expired.bucket + 1] - v_expired.quantity;
      v_freed := v_freed + v_expired.quantity;
    END LOOP;
    -- The seats this batch may take, locked in id order. Seats that are held or sold are
    -- not locked (nor waited for): they are refused below.
    PERFORM 1 FROM event_seats
    WHERE event_id = p_event_id AND id = ANY(v_all_seats) AND status = 'available'
    ORDER BY id FOR UPDATE;
  ELSIF v_exists THEN
    FOR v_expired IN
      SELECT h.id, h.user_id, h.quantity, h.bucket FROM holds h
      WHERE h.event_id = p_event_id AND h.status = 'active' AND h.expires_at <= p_now
      ORDER BY h.id LIMIT 100
      FOR UPDATE SKIP LOCKED
    LOOP
      PERFORM release_hold_in_batch(p_event_id, v_expired.id, v_expired.user_id,
                                    v_expired.quantity, p_now);
      v_freed_available[v_expired.bucket + 1] :=
        v_freed_available[v_expired.bucket + 1] + v_expired.quantity;
      v_freed_held[v_expired.bucket + 1] := v_freed_held[v_expired.bucket + 1] - v_expired.quantity;
      v_freed := v_freed + v_expired.quantity;
    END LOOP;
  END IF;

  -- The event row, shared with the other batches of the event: a cancellation (which locks
  -- it FOR UPDATE) waits for this batch, or this batch for the cancellation.
  SELECT e.status, e.seating, e.sales_start_at, e.sales_end_at, e.starts_at,
         e.max_tickets_per_user, e.price_cents, e.currency
  INTO ev FROM events e WHERE e.id = p_event_id FOR KEY SHARE;
  IF NOT FOUND OR ev.status = 'draft' THEN
    RETURN QUERY SELECT g.i, 'NOT_FOUND'::text, NULL::uuid[], NULL::integer, NULL::text,
                        NULL::jsonb
                 FROM generate_series(0, n - 1) g(i);
    RETURN;
  END IF;
  v_closes := coalesce(ev.sales_end_at, ev.starts_at);

  IF p_lock_first THEN
    -- Every bucket, locked: the whole stock is this batch's to decide on.
    PERFORM 1 FROM event_stock WHERE event_id = p_event_id ORDER BY bucket FOR UPDATE;
    SELECT sum(s.available)::integer + v_freed INTO v_available
    FROM event_stock s WHERE s.event_id = p_event_id;
    v_locked := true;
  ELSE
    -- Optimistically, the chosen bucket's figure unlocked; moved (and checked) at the end.
    SELECT s.available + v_freed_available[v_bucket + 1] INTO v_available
    FROM event_stock s WHERE s.event_id = p_event_id AND s.bucket = v_bucket;
  END IF;

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
         + coalesce((SELECT sum(bk.quantity) FROM bookings bk
                     WHERE bk.user_id = v_user AND bk.event_id = p_event_id
                       AND bk.status = 'confirmed'), 0)
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
    END IF;
    IF v_available < v_qty AND NOT v_locked THEN
      -- The chosen bucket is short: lock every bucket and decide on the whole stock (what
      -- the others have, what this batch freed, less what it has taken so far).
      PERFORM 1 FROM event_stock WHERE event_id = p_event_id ORDER BY bucket FOR UPDATE;
      SELECT sum(s.available)::integer + v_freed - v_taken INTO v_available
      FROM event_stock s WHERE s.event_id = p_event_id;
      v_locked := true;
      IF v_available < 0 THEN
        -- The chosen bucket moved under the holds already decided: run again, locked.
        RAISE EXCEPTION 'the stock of event % moved under the batch', p_event_id
          USING ERRCODE = 'EV002';
      END IF;
    END IF;
    IF ev.seating = 'general' THEN
      -- (Reserved seating: the seat rows decided above; the buckets count them exactly.)
      IF v_available < v_qty THEN
        RETURN QUERY SELECT i, 'SOLD_OUT'::text, NULL::uuid[], NULL::integer, NULL::text,
          jsonb_build_object('available', v_available);
        CONTINUE;
      END IF;
      v_got := '{}';
      v_total := v_qty * ev.price_cents;
    END IF;

    INSERT INTO holds (id, event_id, user_id, quantity, total_cents, currency, expires_at,
                       counters_moved, bucket)
    VALUES (v_hold, p_event_id, v_user, v_qty, v_total, ev.currency,
            (r->>'expiresAt')::timestamptz, true, v_bucket);
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

  IF v_taken = 0 AND v_freed = 0 THEN
    RETURN;
  END IF;
  -- The counters: taken from the chosen bucket, freed back into the expired holds' buckets.
  v_freed_available[v_bucket + 1] := v_freed_available[v_bucket + 1] - v_taken;
  v_freed_held[v_bucket + 1] := v_freed_held[v_bucket + 1] + v_taken;
  IF v_locked THEN
    -- Every bucket is locked: move, and spread what is left evenly again.
    IF NOT event_stock_rebalance(p_event_id, v_freed_available, v_freed_held, NULL) THEN
      RAISE EXCEPTION 'the stock of event % moved under the batch', p_event_id
        USING ERRCODE = 'EV002';
    END IF;
    RETURN;
  END IF;
  -- Unlocked so far: each bucket that moves, in bucket order, refusing a move that the
  -- figures read no longer allow (then the batch runs again, locked).
  FOR b IN 0 .. 7 LOOP
    CONTINUE WHEN v_freed_available[b + 1] = 0 AND v_freed_held[b + 1] = 0;
    UPDATE event_stock s
    SET available = s.available + v_freed_available[b + 1],
        held = s.held + v_freed_held[b + 1]
    WHERE s.event_id = p_event_id AND s.bucket = b
      AND s.available + v_freed_available[b + 1] >= 0;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'the stock of event % moved under the batch', p_event_id
        USING ERRCODE = 'EV002';
    END IF;
  END LOOP;
END;
$$;

-- Confirmations for one event: as in migration 010, but the event row is only shared (a
-- cancellation waits for the batch) and held → sold moves in each hold's own bucket, in
-- bucket order, at the end.
CREATE OR REPLACE FUNCTION confirm_batch_attempt(p_event_id uuid, p_now timestamptz,
                                                 p_requests jsonb, p_lock_first boolean)
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
  v_sold integer[] := array_fill(0, ARRAY[8]);
  v_payload jsonb;
  b integer;
BEGIN
  -- Hold rows first, in id order; then (per request) seats; the buckets last.
  PERFORM 1 FROM holds h
  WHERE h.id IN (SELECT (x->>'holdId')::uuid FROM jsonb_array_elements(p_requests) x)
  ORDER BY h.id FOR UPDATE;
  SELECT e.status INTO v_status FROM events e WHERE e.id = p_event_id FOR KEY SHARE;

  FOR i IN 0 .. n - 1 LOOP
    r := p_requests->i;
    v_booking := (r->>'bookingId')::uuid;
    IF NOT EXISTS (SELECT 1 FROM bookings bk WHERE bk.id = v_booking AND bk.status = 'pending') THEN
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
    SELECT h.id, h.quantity, h.event_id, h.bucket INTO v_hold FROM holds h
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
    v_sold[v_hold.bucket + 1] := v_sold[v_hold.bucket + 1] + v_hold.quantity;

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
      'booking', to_jsonb(bk),
      'tickets', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                          'id', t.id, 'seat_id', t.seat_id, 'code', t.code, 'status', t.status)
                        ORDER BY t.created_at, t.id), '[]'::jsonb)
                  FROM tickets t WHERE t.booking_id = bk.id),
      'saga', (SELECT jsonb_build_object('id', s.id, 'type', s.type, 'status', s.status,
                                         'step', s.step, 'attempts', s.attempts,
                                         'last_error', s.last_error)
               FROM sagas s WHERE s.id = (r->>'sagaId')::uuid))
    FROM bookings bk WHERE bk.id = v_booking;
  END LOOP;

  FOR b IN 0 .. 7 LOOP
    CONTINUE WHEN v_sold[b + 1] = 0;
    UPDATE event_stock SET held = held - v_sold[b + 1], sold = sold + v_sold[b + 1]
    WHERE event_id = p_event_id AND bucket = b;
  END LOOP;
END;
$$;
