-- A delivery is recorded once: as its transparency-log event, written in the transaction that decides to serve the
-- copy. Until now each delivery was also written to `deliveries`, a second row with the same facts (partner,
-- advisory, revision, sections, channel, time, digest); at a release burst that second row, its two indexes and its
-- foreign-key checks were the largest part of the cost of serving a copy. Delivery events now carry the advisory id
-- in a column, indexed, so they can be listed by advisory as they are by partner.
--
-- `deliveries` is kept, append-only, with the rows written before this migration, and nothing writes to it any more.
-- Rows written since migration 0009 also have their event; the older ones, which have none, are listed in
-- `deliveries_without_event`, and listing deliveries shows them after the events (they are older than any).
ALTER TABLE log_events ADD COLUMN advisory_id TEXT;

ALTER TABLE log_events DISABLE TRIGGER log_events_no_rewrite;
UPDATE log_events SET advisory_id = body::json ->> 'advisory' WHERE kind = 'delivery';
ALTER TABLE log_events ENABLE TRIGGER log_events_no_rewrite;

CREATE OR REPLACE FUNCTION log_events_no_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.leaf_index IS NOT NULL OR NEW.leaf_index IS NULL OR NEW.seq <> OLD.seq
        OR NEW.at <> OLD.at OR NEW.kind <> OLD.kind OR NEW.partner_id IS DISTINCT FROM OLD.partner_id
        OR NEW.body <> OLD.body OR NEW.salt <> OLD.salt OR NEW.commitment <> OLD.commitment
        OR NEW.advisory_id IS DISTINCT FROM OLD.advisory_id THEN
        RAISE EXCEPTION 'log_events is append-only';
    END IF;
    RETURN NEW;
END;
$$;

CREATE INDEX log_events_advisory ON log_events (advisory_id, seq) WHERE advisory_id IS NOT NULL;

CREATE TABLE deliveries_without_event (seq BIGINT PRIMARY KEY);
INSERT INTO deliveries_without_event (seq)
SELECT d.seq FROM deliveries d
WHERE NOT EXISTS (
    SELECT 1 FROM log_events e
    WHERE e.kind = 'delivery' AND e.partner_id = d.partner_id AND e.advisory_id = d.advisory_id AND e.at = d.at
);
