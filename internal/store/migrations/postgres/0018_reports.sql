-- Reports: what other servers flag (Flag), for the admins. The reporter is
-- the account that sent it (often a server's instance actor); the target a
-- local account, with the statuses of it the report names.
CREATE TABLE reports (
    id                BIGINT PRIMARY KEY,
    uri               TEXT COLLATE "C" NOT NULL DEFAULT '',
    account_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_ids        TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    comment           TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    resolved_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX reports_open ON reports (id) WHERE resolved_at = 0;
