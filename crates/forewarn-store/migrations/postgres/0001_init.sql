-- forewarn schema, PostgreSQL. Times are microseconds since the Unix epoch (UTC). Keep in step with ../sqlite.
-- Columns ending in _ct hold ciphertext (see forewarn-store/src/crypto.rs); nothing embargoed is stored in clear.

CREATE TABLE tiers (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE staff_users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled_at   BIGINT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE partners (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL UNIQUE,
    country              TEXT NOT NULL CHECK (length(country) = 2),
    tier                 TEXT NOT NULL REFERENCES tiers (name),
    status               TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    status_reason        TEXT,
    status_changed_at    BIGINT NOT NULL,
    agreement_expires_at BIGINT,
    contacts             TEXT NOT NULL,
    flags                TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE partner_tokens (
    id          TEXT PRIMARY KEY,
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    secret_hash BYTEA NOT NULL CHECK (length(secret_hash) = 32),
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX partner_tokens_partner ON partner_tokens (partner_id);

CREATE TABLE advisories (
    id                TEXT PRIMARY KEY,
    state             TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'scheduled', 'withdrawn')),
    release_at        BIGINT,
    current_revision  BIGINT NOT NULL CHECK (current_revision >= 1),
    approved_revision BIGINT,
    created_by        TEXT NOT NULL REFERENCES staff_users (username),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    withdrawn_reason  TEXT,
    key_id            TEXT NOT NULL,
    wrapped_key       BYTEA NOT NULL,
    CHECK (state <> 'scheduled' OR release_at IS NOT NULL),
    CHECK (approved_revision IS NULL OR approved_revision <= current_revision)
);

CREATE TABLE advisory_revisions (
    advisory_id TEXT NOT NULL REFERENCES advisories (id),
    revision    BIGINT NOT NULL,
    meta_ct     BYTEA NOT NULL,
    author      TEXT NOT NULL REFERENCES staff_users (username),
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    approved_by TEXT REFERENCES staff_users (username),
    approved_at BIGINT,
    PRIMARY KEY (advisory_id, revision)
);

CREATE TABLE advisory_sections (
    advisory_id TEXT NOT NULL,
    revision    BIGINT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('summary', 'details', 'detection', 'mitigation', 'poc')),
    body_ct     BYTEA NOT NULL,
    PRIMARY KEY (advisory_id, revision, kind),
    FOREIGN KEY (advisory_id, revision) REFERENCES advisory_revisions (advisory_id, revision)
);

CREATE TABLE advisory_attachments (
    advisory_id TEXT NOT NULL,
    revision    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    body_ct     BYTEA NOT NULL,
    PRIMARY KEY (advisory_id, revision, name),
    FOREIGN KEY (advisory_id, revision) REFERENCES advisory_revisions (advisory_id, revision)
);

-- Append-only history of administrative changes. The trigger makes rewriting it an error.
CREATE TABLE audit_events (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason  TEXT,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_rewrite BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
