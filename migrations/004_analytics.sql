-- Analytics roll-ups, maintained by the `analytics` consumer from booking.confirmed and
-- booking.cancelled messages (exactly once per message through processed_messages), so the
-- dashboards read a few hundred small rows instead of scanning bookings.
--
-- Every counter is bucketed by the booking's own timestamps in UTC: a confirmation by
-- bookings.confirmed_at, a cancellation by bookings.cancelled_at.
CREATE TABLE analytics_platform_hourly (
  hour              timestamptz(3) PRIMARY KEY,
  bookings          integer NOT NULL DEFAULT 0,
  tickets           integer NOT NULL DEFAULT 0,
  revenue_cents     bigint  NOT NULL DEFAULT 0,
  cancellations     integer NOT NULL DEFAULT 0,
  cancelled_tickets integer NOT NULL DEFAULT 0,
  refunded_cents    bigint  NOT NULL DEFAULT 0
);

CREATE TABLE analytics_event_hourly (
  event_id          uuid NOT NULL REFERENCES events (id),
  hour              timestamptz(3) NOT NULL,
  bookings          integer NOT NULL DEFAULT 0,
  tickets           integer NOT NULL DEFAULT 0,
  revenue_cents     bigint  NOT NULL DEFAULT 0,
  cancellations     integer NOT NULL DEFAULT 0,
  cancelled_tickets integer NOT NULL DEFAULT 0,
  refunded_cents    bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, hour)
);

-- Daily per event: ranking events over a date range reads one row per event and day.
CREATE TABLE analytics_event_daily (
  event_id          uuid NOT NULL REFERENCES events (id),
  day               date NOT NULL,
  bookings          integer NOT NULL DEFAULT 0,
  tickets           integer NOT NULL DEFAULT 0,
  revenue_cents     bigint  NOT NULL DEFAULT 0,
  cancellations     integer NOT NULL DEFAULT 0,
  cancelled_tickets integer NOT NULL DEFAULT 0,
  refunded_cents    bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, day)
);
CREATE INDEX analytics_event_daily_day_idx ON analytics_event_daily (day, event_id);

-- Recomputes every roll-up from the bookings table. Run by this migration for the bookings
-- that existed before it, and by hand with `SELECT analytics_rebuild()` (with the workers stopped: a
-- message applied while it runs would be counted twice).
CREATE FUNCTION analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM analytics_platform_hourly;
  DELETE FROM analytics_event_hourly;
  DELETE FROM analytics_event_daily;
  CREATE TEMP TABLE analytics_facts AS
    SELECT event_id, confirmed_at AS at, 1 AS bookings, quantity AS tickets,
           total_cents::bigint AS revenue_cents, 0 AS cancellations, 0 AS cancelled_tickets,
           0::bigint AS refunded_cents
    FROM bookings WHERE confirmed_at IS NOT NULL
    UNION ALL
    SELECT event_id, cancelled_at, 0, 0, 0, 1, quantity, refund_cents
    FROM bookings WHERE status = 'cancelled' AND cancelled_at IS NOT NULL;
  INSERT INTO analytics_platform_hourly
  SELECT date_trunc('hour', at, 'UTC'), sum(bookings), sum(tickets), sum(revenue_cents),
         sum(cancellations), sum(cancelled_tickets), sum(refunded_cents)
  FROM analytics_facts GROUP BY 1;
  INSERT INTO analytics_event_hourly
  SELECT event_id, date_trunc('hour', at, 'UTC'), sum(bookings), sum(tickets),
         sum(revenue_cents), sum(cancellations), sum(cancelled_tickets), sum(refunded_cents)
  FROM analytics_facts GROUP BY 1, 2;
  INSERT INTO analytics_event_daily
  SELECT event_id, (at AT TIME ZONE 'UTC')::date, sum(bookings), sum(tickets),
         sum(revenue_cents), sum(cancellations), sum(cancelled_tickets), sum(refunded_cents)
  FROM analytics_facts GROUP BY 1, 2;
  DROP TABLE analytics_facts;
END;
$$;

SELECT analytics_rebuild();
