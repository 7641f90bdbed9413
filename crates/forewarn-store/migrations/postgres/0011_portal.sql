-- Partner portal users: people of a partner organisation who read its advisories in a browser. Created by the
-- program (CLI) or by the partner's own admin users; argon2id password hashes only. Their sessions are kept apart
-- from staff sessions, so a partner session can never open the console and a staff session never the portal.
CREATE TABLE partner_users (
    username      TEXT PRIMARY KEY,
    partner_id    TEXT NOT NULL REFERENCES partners (id),
    password_hash TEXT NOT NULL,
    is_admin      BIGINT NOT NULL DEFAULT 0,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
CREATE INDEX partner_users_partner ON partner_users (partner_id);

CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES partner_users (username),
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (username);
