-- SQLite's log indexes lead with a sequence bucket since 0014 (see migrations/sqlite); PostgreSQL's stay as they are.
SELECT 1;
