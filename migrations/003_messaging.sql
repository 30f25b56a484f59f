-- Asynchronous work: consumers remember what they processed (at-least-once delivery made
-- exactly-once in effect), messages that kept failing are kept for inspection and retry, and
-- emails are delivered from a table so a crash never loses or doubles one silently.
CREATE TABLE processed_messages (
  consumer     text NOT NULL,
  message_id   uuid NOT NULL,
  processed_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);

CREATE TABLE dead_letters (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  consumer    text NOT NULL,
  message_id  uuid NOT NULL,
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  error       text NOT NULL,
  attempts    integer NOT NULL,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  retried_at  timestamptz(3)
);
CREATE INDEX dead_letters_created_idx ON dead_letters (created_at DESC, id);

CREATE TABLE email_deliveries (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  notification_id uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  to_address      text NOT NULL,
  subject         text NOT NULL,
  body            text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  locked_until    timestamptz(3),
  last_error      text,
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  sent_at         timestamptz(3)
);
CREATE INDEX email_deliveries_pending_idx ON email_deliveries (created_at) WHERE status = 'pending';

-- Wakes the outbox relay as soon as a business transaction commits messages.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('evently_outbox', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
