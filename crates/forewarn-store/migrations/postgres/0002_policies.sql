-- Policy documents: every version ever set, append-only. The newest version is the active policy.
CREATE TABLE policies (
    version    BIGINT PRIMARY KEY,
    body       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    note       TEXT NOT NULL
);
CREATE FUNCTION policies_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policies is append-only';
END;
$$;
CREATE TRIGGER policies_no_rewrite BEFORE UPDATE OR DELETE ON policies
FOR EACH ROW EXECUTE FUNCTION policies_append_only();
