-- Ids an Undo or a Delete named (kept 7 days): an activity or object that
-- arrives after its own undoing (peers deliver in parallel, jobs retry) is
-- dropped, as Mastodon drops it, rather than kept for good.
CREATE TABLE gone_objects (
    uri     TEXT COLLATE "C" PRIMARY KEY,
    gone_at BIGINT NOT NULL
);
CREATE INDEX gone_objects_at ON gone_objects (gone_at);
-- Reports by their Flag's id, which each new one is checked against.
CREATE INDEX reports_uri ON reports (uri) WHERE uri != '';
-- When a remote account last moved: a Move again within 7 days is refused.
ALTER TABLE accounts ADD COLUMN moved_at BIGINT NOT NULL DEFAULT 0;
