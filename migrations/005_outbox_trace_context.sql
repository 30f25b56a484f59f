-- The W3C trace context (traceparent, tracestate) of the transaction that wrote an outbox row,
-- so the consumers' spans join the trace of the request or saga step that caused the message.
-- NULL when tracing is off.
ALTER TABLE outbox ADD COLUMN trace_context jsonb;
