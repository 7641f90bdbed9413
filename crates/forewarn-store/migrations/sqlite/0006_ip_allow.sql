-- A partner's IP allow-list: a JSON list of networks; empty means no restriction.
ALTER TABLE partners ADD COLUMN ip_allow TEXT NOT NULL DEFAULT '[]';
