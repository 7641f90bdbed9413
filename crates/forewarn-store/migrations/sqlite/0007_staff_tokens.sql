-- API tokens of staff users, for the admin endpoints. Stored as hashes, like partner tokens.
CREATE TABLE staff_tokens (
    id          TEXT PRIMARY KEY,
    username    TEXT NOT NULL REFERENCES staff_users (username),
    secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
