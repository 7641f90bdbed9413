-- A partner's webhook endpoint. The signing secret is sealed by the master key: it must be read back to sign.
CREATE TABLE partner_webhooks (
    partner_id TEXT PRIMARY KEY REFERENCES partners (id),
    url        TEXT NOT NULL,
    secret_ct  BYTEA NOT NULL,
    key_id     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Notifications to send. The id is derived from what is announced, so that every server computing the same
-- announcement inserts the same row once (at-least-once delivery with a stable webhook-id).
CREATE TABLE webhook_events (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    advisory_id     TEXT NOT NULL REFERENCES advisories (id),
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_events_due ON webhook_events (state, next_attempt_at);

-- Every attempt, for the partner's delivery log.
CREATE TABLE webhook_attempts (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    TEXT NOT NULL REFERENCES webhook_events (id),
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    at          BIGINT NOT NULL,
    status_code BIGINT,
    error       TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_partner ON webhook_attempts (partner_id, at);
