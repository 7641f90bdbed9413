-- Policy documents: every version ever set, append-only. The newest version is the active policy.
CREATE TABLE policies (
    version    BIGINT PRIMARY KEY,
    body       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    note       TEXT NOT NULL
);
CREATE TRIGGER policies_no_update BEFORE UPDATE ON policies
BEGIN SELECT RAISE(ABORT, 'policies is append-only'); END;
CREATE TRIGGER policies_no_delete BEFORE DELETE ON policies
BEGIN SELECT RAISE(ABORT, 'policies is append-only'); END;
