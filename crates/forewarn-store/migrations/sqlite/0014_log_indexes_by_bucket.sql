-- The log's partner and advisory indexes lead with a bucket of 1,024 consecutive events (`seq / 1024`). Keyed by
-- partner first, each delivery added an entry at its own partner's leaf — at a release burst a different leaf for
-- nearly every delivery of a group commit — and SQLite writes every changed leaf whole to the WAL and again at the
-- checkpoint: about 5 KB of disk writes per copy served, most of them unchanged bytes of those leaves. Bucket first,
-- a commit's entries all land in the newest bucket, a few leaves. Lookups by partner or advisory (newest first)
-- seek once per bucket (`forewarn_store::log::newest_by`). PostgreSQL keeps its indexes (0014 there is empty).
DROP INDEX log_events_partner;
CREATE INDEX log_events_partner ON log_events (seq / 1024, partner_id, seq);
DROP INDEX log_events_advisory;
CREATE INDEX log_events_advisory ON log_events (seq / 1024, advisory_id, seq) WHERE advisory_id IS NOT NULL;
