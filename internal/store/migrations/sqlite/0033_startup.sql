-- Markers (Mastodon's /api/v1/markers): where each local user stopped
-- reading a timeline ("home" or "notifications"). version counts the saves
-- that changed last_read_id, as Mastodon's lock_version does.
CREATE TABLE markers (
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline     TEXT NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, timeline)
) STRICT, WITHOUT ROWID;

-- Follow suggestions a user dismissed (DELETE /api/v1/suggestions/:id):
-- never suggested to them again.
CREATE TABLE suggestion_dismissals (
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
) STRICT, WITHOUT ROWID;
