-- An event gets its leaf index when it is written, in the transaction that writes it, instead of later from the
-- sequencer. Writers already queue for the write lock, so indices handed out from a counter in `log_state` are
-- gap-free and in commit order. The sequencer now only reads the events past the tree's size and writes tiles and a
-- checkpoint: it rewrites no event row (each rewrite also touched the pending index and the leaf-index index, and at
-- a release burst that was about a tenth of the cost of a delivery), and events can refuse every UPDATE.
--
-- `log_state.size` stays the size of the tree (the events integrated); `log_state.next` is the next leaf index to
-- give. Events with `size <= leaf_index < next` are pending.
ALTER TABLE log_state ADD COLUMN next BIGINT NOT NULL DEFAULT 0;

-- Events still pending get the next indices, in outbox order.
CREATE TEMP TABLE pending_order AS
SELECT seq, ROW_NUMBER() OVER (ORDER BY seq) - 1 AS n FROM log_events WHERE leaf_index IS NULL;
DROP TRIGGER log_events_no_rewrite;
UPDATE log_events
SET leaf_index = (SELECT size FROM log_state WHERE id = 1) + (SELECT n FROM pending_order p WHERE p.seq = log_events.seq)
WHERE leaf_index IS NULL;
UPDATE log_state SET next = size + (SELECT COUNT(*) FROM pending_order) WHERE id = 1;
DROP TABLE pending_order;

DROP INDEX log_events_pending;
CREATE TRIGGER log_events_no_rewrite BEFORE UPDATE ON log_events
BEGIN SELECT RAISE(ABORT, 'log_events is append-only'); END;
