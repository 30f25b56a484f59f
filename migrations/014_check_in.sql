-- Check-in at the door (issue 14, "Tickets and check-in").
--
-- Besides an event's organizer and admins, people the organizer names may check tickets in
-- for that one event: door staff need no organizer account. A grant is per (event, user); the
-- grant table is read on every check-in request.
CREATE TABLE event_scanners (
  event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  granted_by uuid REFERENCES users (id) ON DELETE SET NULL,
  granted_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, user_id)
);

-- The offline manifest lists an event's tickets and the live counts count them by status;
-- until now tickets were only found by booking or by code.
CREATE INDEX tickets_event_status_idx ON tickets (event_id, status);

-- A checked-in ticket knows when. (A ticket cancelled after its check-in keeps the time, so
-- the rule runs one way only.)
ALTER TABLE tickets ADD CONSTRAINT tickets_checked_in_has_time
  CHECK (status <> 'checked_in' OR checked_in_at IS NOT NULL);
