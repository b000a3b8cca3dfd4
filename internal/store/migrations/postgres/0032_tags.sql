-- Followed hashtags: a public status carrying one enters the follower's
-- home_feed when it is fanned out (store.fanOutTagFollowers), as Mastodon
-- inserts into home feeds. tag_follows_tag serves that fan-out (the
-- followers of a status's tags); the account's own list pages by id.
CREATE TABLE tag_follows (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, tag_id)
);
CREATE INDEX tag_follows_tag ON tag_follows (tag_id, account_id);
CREATE INDEX tag_follows_account ON tag_follows (account_id, id);

-- Hashtags featured on a profile (at most 10 per account, social's rule).
-- Their counts are read from the account's public and unlisted statuses.
CREATE TABLE featured_tags (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, tag_id)
);

-- The profile directory's "active" order walks this index newest first.
CREATE INDEX account_stats_last_status ON account_stats (last_status_at);
