-- Filters (Mastodon's v2 filters; a v1 filter is one keyword of one): an
-- account's named groups of keywords and statuses that hide or flag what
-- it reads. contexts is a bit set (1 home, 2 notifications, 4 public,
-- 8 thread, 16 account); action 0 warns, 1 hides; expires_at 0 never.
-- The rules (limits, matching) are social's; these tables only keep them.
CREATE TABLE filters (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title      TEXT COLLATE "C" NOT NULL,
    contexts   BIGINT NOT NULL,
    action     BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX filters_account ON filters (account_id, id);

CREATE TABLE filter_keywords (
    id         BIGINT PRIMARY KEY,
    filter_id  BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword    TEXT COLLATE "C" NOT NULL,
    whole_word BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id, id);

-- A status filtered by id; deleting the status deletes the row (the index
-- on status_id keeps that cascade from scanning the table).
CREATE TABLE filter_statuses (
    id         BIGINT PRIMARY KEY,
    filter_id  BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id  BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (filter_id, status_id)
);
CREATE INDEX filter_statuses_status ON filter_statuses (status_id);
