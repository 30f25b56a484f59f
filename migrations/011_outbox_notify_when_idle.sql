-- The outbox's NOTIFY only when a relay is idle and waiting for one.
--
-- Every commit that sends a NOTIFY takes one lock per database ("Lock:object" in
-- pg_stat_activity) from its pre-commit until its end, WAL flush included, so that the
-- notifications queue in commit order. With a NOTIFY from every outbox insert, every hold,
-- booking and consumer commit of a flash sale queued on that one lock: it was the largest
-- wait of the v2 booking path. A relay that is busy needs no wake-up (it drains until the
-- outbox is empty), so it now raises a flag when it goes idle, and the first writer after
-- that clears the flag and notifies — one NOTIFY per idle period instead of one per commit.
-- The relay's fallback poll (OUTBOX_POLL_MS) still catches anything a race let through.
CREATE TABLE outbox_relay_idle (
  id   integer PRIMARY KEY CHECK (id = 1),
  idle boolean NOT NULL
);
INSERT INTO outbox_relay_idle (id, idle) VALUES (1, true);

CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM outbox_relay_idle WHERE idle) THEN
    UPDATE outbox_relay_idle SET idle = false WHERE id = 1 AND idle;
    IF FOUND THEN
      PERFORM pg_notify('evently_outbox', '');
    END IF;
  END IF;
  RETURN NULL;
END;
$$;
