-- Markers (Mastodon's /api/v1/markers): where each local user stopped
-- reading a timeline ("home" or "notifications"). version counts the saves
-- that changed last_read_id, as Mastodon's lock_version does.
CREATE TABLE markers (
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline     TEXT COLLATE "C" NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

-- Follow suggestions a user dismissed (DELETE /api/v1/suggestions/:id):
-- never suggested to them again.
CREATE TABLE suggestion_dismissals (
    account_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);
