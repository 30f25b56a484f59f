-- A booking's answer reads its latest saga (GET /bookings/:id, POST /bookings). The only index
-- on sagas.booking_id covers live sagas, so for a finished one that read scanned the whole
-- table: in a flash sale every answer got slower with every booking sold before it.
CREATE INDEX sagas_booking_created_idx ON sagas (booking_id, created_at DESC);
