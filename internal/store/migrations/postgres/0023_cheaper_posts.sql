-- A post's costliest write is its followers' home timeline rows, and each
-- went into three B-trees (SQLite's; here the table and its two indexes).
-- home_feed_author served only unfollows, which now walk the former
-- follower's own range of the primary key instead.
DROP INDEX home_feed_author;
-- Whether a post reaches another server is whether its author has a remote
-- follower: one seek of this partial index, where it was a walk of every
-- follower (11% of a post by an account with 889 local followers).
ALTER TABLE follows ADD COLUMN remote BIGINT NOT NULL DEFAULT 0;
UPDATE follows SET remote = 1 WHERE account_id IN (SELECT id FROM accounts WHERE domain != '');
CREATE INDEX follows_remote ON follows (target_account_id) WHERE remote = 1;
