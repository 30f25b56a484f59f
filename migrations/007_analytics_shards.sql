-- In a flash sale every confirmation of one event, and of the whole platform, lands in the
-- same hour: one row each, updated by every consumer at once. Each roll-up row is split into
-- 8 shards (chosen from the booking id), so concurrent updates rarely wait on each other;
-- every query already sums its rows.
ALTER TABLE analytics_platform_hourly ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_platform_hourly DROP CONSTRAINT analytics_platform_hourly_pkey;
ALTER TABLE analytics_platform_hourly ADD PRIMARY KEY (hour, shard);

ALTER TABLE analytics_event_hourly ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_event_hourly DROP CONSTRAINT analytics_event_hourly_pkey;
ALTER TABLE analytics_event_hourly ADD PRIMARY KEY (event_id, hour, shard);

ALTER TABLE analytics_event_daily ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_event_daily DROP CONSTRAINT analytics_event_daily_pkey;
ALTER TABLE analytics_event_daily ADD PRIMARY KEY (event_id, day, shard);

-- The rebuild spreads its rows over the same shards as the consumer (the booking id's last
-- byte, modulo 8), so a rebuild gives back exactly the rows the consumer kept.
CREATE OR REPLACE FUNCTION analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM analytics_platform_hourly;
  DELETE FROM analytics_event_hourly;
  DELETE FROM analytics_event_daily;
  CREATE TEMP TABLE analytics_facts AS
    SELECT event_id, get_byte(uuid_send(id), 15) % 8 AS shard,
           confirmed_at AS at, 1 AS bookings, quantity AS tickets,
           total_cents::bigint AS revenue_cents, 0 AS cancellations, 0 AS cancelled_tickets,
           0::bigint AS refunded_cents
    FROM bookings WHERE confirmed_at IS NOT NULL
    UNION ALL
    SELECT event_id, get_byte(uuid_send(id), 15) % 8, cancelled_at, 0, 0, 0, 1, quantity,
           refund_cents
    FROM bookings WHERE status = 'cancelled' AND cancelled_at IS NOT NULL;
  INSERT INTO analytics_platform_hourly
  SELECT date_trunc('hour', at, 'UTC'), sum(bookings), sum(tickets), sum(revenue_cents),
         sum(cancellations), sum(cancelled_tickets), sum(refunded_cents), shard
  FROM analytics_facts GROUP BY 1, shard;
  INSERT INTO analytics_event_hourly
  SELECT event_id, date_trunc('hour', at, 'UTC'), sum(bookings), sum(tickets),
         sum(revenue_cents), sum(cancellations), sum(cancelled_tickets), sum(refunded_cents),
         shard
  FROM analytics_facts GROUP BY 1, 2, shard;
  INSERT INTO analytics_event_daily
  SELECT event_id, (at AT TIME ZONE 'UTC')::date, sum(bookings), sum(tickets),
         sum(revenue_cents), sum(cancellations), sum(cancelled_tickets), sum(refunded_cents),
         shard
  FROM analytics_facts GROUP BY 1, 2, shard;
  DROP TABLE analytics_facts;
END;
$$;

