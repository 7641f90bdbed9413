-- The transparency log. Each event (a delivery, an administrative change, ...) is written in the transaction of the
-- action that caused it (an outbox). Its entry in the tree is a commitment: SHA-256 of a domain tag, a random salt
-- and the event body, so tiles and entry bundles reveal nothing; body and salt stay here. The sequencer later gives
-- each pending event (leaf_index NULL) the next leaf index, writes the tiles that changed and signs a checkpoint.
CREATE TABLE log_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    partner_id TEXT,
    body       TEXT NOT NULL,
    salt       BLOB NOT NULL,
    commitment BLOB NOT NULL,
    leaf_index BIGINT UNIQUE
);
CREATE INDEX log_events_pending ON log_events (seq) WHERE leaf_index IS NULL;
CREATE INDEX log_events_partner ON log_events (partner_id, seq);
-- Events are never rewritten: the only change allowed is giving a pending event its leaf index, once.
CREATE TRIGGER log_events_no_rewrite BEFORE UPDATE ON log_events
WHEN OLD.leaf_index IS NOT NULL OR NEW.leaf_index IS NULL OR NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at
    OR NEW.kind IS NOT OLD.kind OR NEW.partner_id IS NOT OLD.partner_id OR NEW.body IS NOT OLD.body
    OR NEW.salt IS NOT OLD.salt OR NEW.commitment IS NOT OLD.commitment
BEGIN SELECT RAISE(ABORT, 'log_events is append-only'); END;
CREATE TRIGGER log_events_no_delete BEFORE DELETE ON log_events
BEGIN SELECT RAISE(ABORT, 'log_events is append-only'); END;

-- The longest version of each hash tile (C2SP tlog-tiles): full tiles never change; partial ones only grow.
CREATE TABLE log_tiles (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    data  BLOB NOT NULL,
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
