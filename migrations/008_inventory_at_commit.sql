-- The event's inventory counters move at COMMIT, from the holds' own state changes.
--
-- Every hold and every sale used to update the event row from the application, and the row
-- lock that update takes lasts until the transaction ends: at least one client round trip
-- (the COMMIT) later. In a flash sale all buyers of one event queue on that lock, so the
-- sale was as fast as one round trip allowed. A deferred constraint trigger makes the same
-- update inside COMMIT, so the lock is held for the update and the commit record only.
--
-- The guarantees do not move: CHECK (available >= 0) and events_inventory_balanced still
-- refuse an oversell, now at commit (SQLSTATE 23514, constraint events_available_check), and
-- a sale of an event that is no longer published is refused at commit with SQLSTATE EV001.
-- A hold's counters move with its status and nowhere else:
--   inserted active          available → held
--   active → released/expired  held → available
--   active → converted         held → sold (only while the event is published)
-- Cancelling a confirmed booking (sold → available) stays an explicit update: it is rare and
-- not a state change of a hold.
--
-- Upgrade with every older process stopped: older code moves the counters itself, and with
-- these triggers in place each of its moves would count twice (docs/operations.md).

CREATE FUNCTION holds_move_inventory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status = 'active' THEN
      UPDATE events SET available = available - NEW.quantity, held = held + NEW.quantity
      WHERE id = NEW.event_id;
    END IF;
  ELSIF OLD.status = 'active' AND NEW.status IN ('released', 'expired') THEN
    UPDATE events SET held = held - OLD.quantity, available = available + OLD.quantity
    WHERE id = OLD.event_id;
  ELSIF OLD.status = 'active' AND NEW.status = 'converted' THEN
    UPDATE events SET held = held - OLD.quantity, sold = sold + OLD.quantity
    WHERE id = OLD.event_id AND status = 'published';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'event % is not on sale', OLD.event_id USING ERRCODE = 'EV001';
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER holds_move_inventory_on_insert
  AFTER INSERT ON holds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION holds_move_inventory();

CREATE CONSTRAINT TRIGGER holds_move_inventory_on_status
  AFTER UPDATE OF status ON holds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION holds_move_inventory();
