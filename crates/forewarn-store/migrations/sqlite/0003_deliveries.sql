-- Every copy of advisory content served to a partner, written in the same transaction as the decision to serve it.
CREATE TABLE deliveries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    advisory_id TEXT NOT NULL REFERENCES advisories (id),
    revision    BIGINT NOT NULL,
    sections    TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('api', 'csaf', 'bundle', 'web')),
    digest      TEXT NOT NULL
);
CREATE INDEX deliveries_partner ON deliveries (partner_id, at);
CREATE INDEX deliveries_advisory ON deliveries (advisory_id, at);
CREATE TRIGGER deliveries_no_update BEFORE UPDATE ON deliveries
BEGIN SELECT RAISE(ABORT, 'deliveries is append-only'); END;
CREATE TRIGGER deliveries_no_delete BEFORE DELETE ON deliveries
BEGIN SELECT RAISE(ABORT, 'deliveries is append-only'); END;
