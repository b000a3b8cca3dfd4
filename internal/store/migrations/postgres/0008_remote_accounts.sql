-- Remote actors live in accounts beside local ones (domain not ''). What
-- only they have: their avatar and header as URLs on their own servers
-- (shown by URL; no media proxy yet), their inboxes for delivery, and when
-- they were last fetched.
ALTER TABLE accounts ADD COLUMN avatar_remote_url TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN header_remote_url TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN inbox_url TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN shared_inbox_url TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN fetched_at BIGINT NOT NULL DEFAULT 0;
