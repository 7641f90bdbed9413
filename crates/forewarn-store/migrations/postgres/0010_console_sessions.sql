-- Web console sessions. The cookie holds a random token; only its SHA-256 is stored, with the session's CSRF token
-- (sent back in every form) and its expiry. Stored in the database, so any server of a cluster honours a session
-- and a logout.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES staff_users (username),
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (username);
