-- A change counter for everything that decides what a partner may see: partners, their tokens, advisories and
-- their revisions, and the policy. Triggers bump it in the same transaction as the change, so a server that holds a
-- snapshot of those tables knows, with one query, whether the snapshot is still current.
CREATE TABLE catalogue (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO catalogue (id, version) VALUES (1, 1);

CREATE FUNCTION catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalogue SET version = version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER catalogue_partners AFTER INSERT OR UPDATE OR DELETE ON partners
FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER catalogue_tokens AFTER INSERT OR UPDATE OR DELETE ON partner_tokens
FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER catalogue_advisories AFTER INSERT OR UPDATE OR DELETE ON advisories
FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER catalogue_revisions AFTER INSERT OR UPDATE OR DELETE ON advisory_revisions
FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER catalogue_policies AFTER INSERT ON policies
FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
