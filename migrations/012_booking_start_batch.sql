-- A booking's start for a batch of requests in one statement (group commit, as for holds and
-- confirmations in migration 010): each request's pending booking (only for the caller's
-- active hold; a live booking of the hold makes it a no-op), its saga at `charge`, and its
-- queue message when a worker is to drive it. Answers per request (idx = its position): the
-- hold as it was, the booking and saga this statement created, and the hold's live booking
-- (the one a repeat joins). Request: {bookingId, holdId, userId, token, audit, lockedUntil,
-- queue, traceContext}.
CREATE FUNCTION start_booking_batch(p_now timestamptz, p_requests jsonb)
RETURNS TABLE (idx integer, hold jsonb, booking jsonb, saga jsonb, live jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  n integer := jsonb_array_length(p_requests);
  r jsonb;
  i integer;
  v_hold holds%ROWTYPE;
  v_booking bookings%ROWTYPE;
  v_saga sagas%ROWTYPE;
  v_live jsonb;
BEGIN
  FOR i IN 0 .. n - 1 LOOP
    r := p_requests->i;
    v_booking := NULL;
    v_saga := NULL;
    SELECT * INTO v_hold FROM holds WHERE id = (r->>'holdId')::uuid;
    IF NOT FOUND THEN
      RETURN QUERY SELECT i, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::jsonb;
      CONTINUE;
    END IF;
    IF v_hold.user_id = (r->>'userId')::uuid AND v_hold.status = 'active'
       AND v_hold.expires_at > p_now THEN
      INSERT INTO bookings (id, event_id, user_id, hold_id, quantity, total_cents, currency)
      VALUES ((r->>'bookingId')::uuid, v_hold.event_id, v_hold.user_id, v_hold.id,
              v_hold.quantity, v_hold.total_cents, v_hold.currency)
      ON CONFLICT (hold_id) WHERE status IN ('pending', 'confirmed') DO NOTHING
      RETURNING * INTO v_booking;
      IF v_booking.id IS NOT NULL THEN
        INSERT INTO sagas (type, booking_id, step, payload, locked_until)
        VALUES ('booking', v_booking.id, 'charge',
                jsonb_build_object('holdId', v_hold.id, 'userId', v_hold.user_id,
                                   'eventId', v_hold.event_id, 'token', r->>'token',
                                   'amountCents', v_hold.total_cents, 'currency', v_hold.currency,
                                   'audit', r->'audit'),
                (r->>'lockedUntil')::timestamptz)
        ON CONFLICT (booking_id, type) WHERE status IN ('running', 'compensating') DO NOTHING
        RETURNING * INTO v_saga;
        IF v_saga.id IS NOT NULL AND (r->>'queue')::boolean THEN
          INSERT INTO outbox (aggregate_type, aggregate_id, type, payload, trace_context)
          VALUES ('saga', v_saga.id, 'saga.start',
                  jsonb_build_object('sagaId', v_saga.id, 'bookingId', v_booking.id),
                  r->'traceContext');
        END IF;
      END IF;
    END IF;
    SELECT to_jsonb(l) INTO v_live FROM bookings l
    WHERE l.hold_id = v_hold.id AND l.status IN ('pending', 'confirmed')
      AND l.id IS DISTINCT FROM v_booking.id
    LIMIT 1;
    RETURN QUERY SELECT i, to_jsonb(v_hold),
      CASE WHEN v_booking.id IS NULL THEN NULL ELSE to_jsonb(v_booking) END,
      CASE WHEN v_saga.id IS NULL THEN NULL ELSE to_jsonb(v_saga) END,
      v_live;
  END LOOP;
END;
$$;
