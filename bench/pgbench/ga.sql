-- The general-admission counter decrement on the event's single hot row (autocommit).
UPDATE events SET available = available - 1, sold = sold + 1
  WHERE id = ':ga_id' AND available > 0;
