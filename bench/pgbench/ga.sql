-- The general-admission counter decrement on one hot row (autocommit): one stock bucket of
-- the event, which the v1 path kept as its single events row.
UPDATE event_stock SET available = available - 1, sold = sold + 1
  WHERE event_id = ':ga_id' AND bucket = 0 AND available > 0;
