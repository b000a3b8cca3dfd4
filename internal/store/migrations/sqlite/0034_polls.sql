-- Polls of local statuses (Mastodon's), one per status, deleted with it.
-- votes_count counts choices, voters_count accounts; notified is set once
-- the poll's end has been told to its voters and author (the job
-- poll.expire, idempotent through it).
CREATE TABLE polls (
    id           INTEGER PRIMARY KEY,
    status_id    INTEGER NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    multiple     INTEGER NOT NULL DEFAULT 0,
    hide_totals  INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL,
    votes_count  INTEGER NOT NULL DEFAULT 0,
    voters_count INTEGER NOT NULL DEFAULT 0,
    notified     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX polls_account ON polls (account_id);

-- A poll's options in order, each with its tally.
CREATE TABLE poll_options (
    poll_id     INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    votes_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, position)
) STRICT, WITHOUT ROWID;

-- One row per voter: the primary key is the one-vote-per-account rule.
-- choices are the option positions, comma-separated ("0,2").
CREATE TABLE poll_votes (
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choices    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (poll_id, account_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX poll_votes_account ON poll_votes (account_id);
