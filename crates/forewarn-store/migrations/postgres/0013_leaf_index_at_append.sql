-- An event gets its leaf index when it is written, in the transaction that writes it, instead of later from the
-- sequencer. Writing events locks the `log_state` row until commit, so indices handed out from its counter are
-- gap-free and in commit order. The sequencer now only reads the events past the tree's size and writes tiles and a
-- checkpoint: it rewrites no event row, and events can refuse every UPDATE.
--
-- `log_state.size` stays the size of the tree (the events integrated); `log_state.next` is the next leaf index to
-- give. Events with `size <= leaf_index < next` are pending.
ALTER TABLE log_state ADD COLUMN next BIGINT NOT NULL DEFAULT 0;

-- Events still pending get the next indices, in outbox order.
ALTER TABLE log_events DISABLE TRIGGER log_events_no_rewrite;
UPDATE log_events e
SET leaf_index = s.size + p.n
FROM (SELECT seq, ROW_NUMBER() OVER (ORDER BY seq) - 1 AS n FROM log_events WHERE leaf_index IS NULL) p, log_state s
WHERE e.seq = p.seq AND s.id = 1;
ALTER TABLE log_events ENABLE TRIGGER log_events_no_rewrite;
UPDATE log_state SET next = size + (SELECT COUNT(*) FROM log_events WHERE leaf_index >= log_state.size) WHERE id = 1;

DROP INDEX log_events_pending;
CREATE OR REPLACE FUNCTION log_events_no_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'log_events is append-only';
END;
$$;
