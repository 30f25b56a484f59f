-- Ranges that do not start or end on a UTC day boundary read their edge hours for every event
-- from the hourly roll-up: by hour, not by event.
CREATE INDEX analytics_event_hourly_hour_idx ON analytics_event_hourly (hour, event_id);
