-- The transparency log. Each event (a delivery, an administrative change, ...) is written in the transaction of the
-- action that caused it (an outbox). Its entry in the tree is a commitment: SHA-256 of a domain tag, a random salt
-- and the event body, so tiles and entry bundles reveal nothing; body and salt stay here. The sequencer later gives
-- each pending event (leaf_index NULL) the next leaf index, writes the tiles that changed and signs a checkpoint.
CREATE TABLE log_events (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    partner_id TEXT,
    body       TEXT NOT NULL,
    salt       BYTEA NOT NULL,
    commitment BYTEA NOT NULL,
    leaf_index BIGINT UNIQUE
);
CREATE INDEX log_events_pending ON log_events (seq) WHERE leaf_index IS NULL;
CREATE INDEX log_events_partner ON log_events (partner_id, seq);
-- Events are never rewritten: the only change allowed is giving a pending event its leaf index, once.
CREATE FUNCTION log_events_no_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.leaf_index IS NOT NULL OR NEW.leaf_index IS NULL OR NEW.seq <> OLD.seq
        OR NEW.at <> OLD.at OR NEW.kind <> OLD.kind OR NEW.partner_id IS DISTINCT FROM OLD.partner_id
        OR NEW.body <> OLD.body OR NEW.salt <> OLD.salt OR NEW.commitment <> OLD.commitment THEN
        RAISE EXCEPTION 'log_events is append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER log_events_no_rewrite BEFORE UPDATE OR DELETE ON log_events
FOR EACH ROW EXECUTE FUNCTION log_events_no_rewrite();

-- The longest version of each hash tile (C2SP tlog-tiles): full tiles never change; partial ones only grow.
CREATE TABLE log_tiles (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    data  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
-- Every signed checkpoint, by tree size.
CREATE TABLE log_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    at   BIGINT NOT NULL
);
-- The integrated tree's size; the sequencer's transaction locks this row.
CREATE TABLE log_state (id BIGINT PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL);
INSERT INTO log_state (id, size) VALUES (1, 0);
