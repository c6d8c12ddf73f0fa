-- Relays wake when events are written instead of polling for them: every statement that inserts outbox
-- rows notifies the channel ipaas_outbox, delivered when its transaction commits (and not at all if it
-- rolls back); notifications of one transaction are folded into one.
CREATE FUNCTION "outbox_events_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ipaas_outbox', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_events_notify"
  AFTER INSERT ON "outbox_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "outbox_events_notify"();
