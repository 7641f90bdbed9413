-- A change counter for everything that decides what a partner may see: partners, their tokens, advisories and
-- their revisions, and the policy. Triggers bump it in the same transaction as the change, so a server that holds a
-- snapshot of those tables knows, with one query, whether the snapshot is still current.
CREATE TABLE catalogue (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO catalogue (id, version) VALUES (1, 1);

CREATE TRIGGER catalogue_partners_i AFTER INSERT ON partners BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_partners_u AFTER UPDATE ON partners BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_partners_d AFTER DELETE ON partners BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_tokens_i AFTER INSERT ON partner_tokens BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_tokens_u AFTER UPDATE ON partner_tokens BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_tokens_d AFTER DELETE ON partner_tokens BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_advisories_i AFTER INSERT ON advisories BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_advisories_u AFTER UPDATE ON advisories BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_advisories_d AFTER DELETE ON advisories BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_revisions_i AFTER INSERT ON advisory_revisions BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_revisions_u AFTER UPDATE ON advisory_revisions BEGIN UPDATE catalogue SET version = version + 1; END;
CREATE TRIGGER catalogue_policies_i AFTER INSERT ON policies BEGIN UPDATE catalogue SET version = version + 1; END;
