-- A deferred post's search words wait with it and are written by the
-- fan-out job with other posts' (a JSON array): written together, posts
-- share the pages of common words, where each post wrote a page per word
-- (a third of a post's cost).
ALTER TABLE fanout_pending ADD COLUMN words TEXT NOT NULL DEFAULT '[]';
