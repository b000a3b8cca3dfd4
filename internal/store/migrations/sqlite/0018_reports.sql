-- Reports: what other servers flag (Flag), for the admins. The reporter is
-- the account that sent it (often a server's instance actor); the target a
-- local account, with the statuses of it the report names.
CREATE TABLE reports (
    id                INTEGER PRIMARY KEY,
    uri               TEXT NOT NULL DEFAULT '',
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_ids        TEXT NOT NULL DEFAULT '[]',
    comment           TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    resolved_at       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX reports_open ON reports (id) WHERE resolved_at = 0;
