-- The program's own keys (the OpenPGP signing key): public half in clear, secret half sealed by the master key.
CREATE TABLE program_keys (
    name        TEXT PRIMARY KEY,
    public_text TEXT NOT NULL,
    secret_ct   BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A partner's OpenPGP certificate, to which bundles are encrypted.
ALTER TABLE partners ADD COLUMN openpgp_key TEXT;
