-- forewarn schema, SQLite. Times are microseconds since the Unix epoch (UTC). Keep in step with ../postgres.
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
    secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
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
    wrapped_key       BLOB NOT NULL,
    CHECK (state <> 'scheduled' OR release_at IS NOT NULL),
    CHECK (approved_revision IS NULL OR approved_revision <= current_revision)
);

CREATE TABLE advisory_revisions (
    advisory_id TEXT NOT NULL REFERENCES advisories (id),
    revision    BIGINT NOT NULL,
    meta_ct     BLOB NOT NULL,
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
    body_ct     BLOB NOT NULL,
    PRIMARY KEY (advisory_id, revision, kind),
    FOREIGN KEY (advisory_id, revision) REFERENCES advisory_revisions (advisory_id, revision)
);

CREATE TABLE advisory_attachments (
    advisory_id TEXT NOT NULL,
    revision    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    body_ct     BLOB NOT NULL,
    PRIMARY KEY (advisory_id, revision, name),
    FOREIGN KEY (advisory_id, revision) REFERENCES advisory_revisions (advisory_id, revision)
);

-- Append-only history of administrative changes. The triggers make rewriting it an error.
CREATE TABLE audit_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason  TEXT,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
