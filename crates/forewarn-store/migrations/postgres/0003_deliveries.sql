-- Every copy of advisory content served to a partner, written in the same transaction as the decision to serve it.
CREATE TABLE deliveries (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE FUNCTION deliveries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'deliveries is append-only';
END;
$$;
CREATE TRIGGER deliveries_no_rewrite BEFORE UPDATE OR DELETE ON deliveries
FOR EACH ROW EXECUTE FUNCTION deliveries_append_only();
