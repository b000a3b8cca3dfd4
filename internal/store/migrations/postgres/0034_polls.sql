-- Polls of local statuses (Mastodon's), one per status, deleted with it.
-- votes_count counts choices, voters_count accounts; notified is set once
-- the poll's end has been told to its voters and author (the job
-- poll.expire, idempotent through it).
CREATE TABLE polls (
    id           BIGINT PRIMARY KEY,
    status_id    BIGINT NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    multiple     BIGINT NOT NULL DEFAULT 0,
    hide_totals  BIGINT NOT NULL DEFAULT 0,
    expires_at   BIGINT NOT NULL,
    votes_count  BIGINT NOT NULL DEFAULT 0,
    voters_count BIGINT NOT NULL DEFAULT 0,
    notified     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX polls_account ON polls (account_id);

-- A poll's options in order, each with its tally.
CREATE TABLE poll_options (
    poll_id     BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    title       TEXT COLLATE "C" NOT NULL,
    votes_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, position)
);

-- One row per voter: the primary key is the one-vote-per-account rule.
-- choices are the option positions, comma-separated ("0,2").
CREATE TABLE poll_votes (
    poll_id    BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choices    TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (poll_id, account_id)
);
CREATE INDEX poll_votes_account ON poll_votes (account_id);
