-- Statuses: local and (later) remote, one table. visibility: 0 public,
-- 1 unlisted, 2 private (followers), 3 direct. A reblog is a row with
-- reblog_of_id set and no text. Counters are kept in the row, updated in the
-- same transaction as the rows they count.
CREATE TABLE statuses (
    id                     INTEGER PRIMARY KEY,
    uri                    TEXT NOT NULL UNIQUE,
    url                    TEXT NOT NULL DEFAULT '',
    account_id             INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    local                  INTEGER NOT NULL DEFAULT 1,
    in_reply_to_id         INTEGER REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_account_id INTEGER,
    reblog_of_id           INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    text                   TEXT NOT NULL DEFAULT '',
    content                TEXT NOT NULL DEFAULT '',
    spoiler_text           TEXT NOT NULL DEFAULT '',
    sensitive              INTEGER NOT NULL DEFAULT 0,
    visibility             INTEGER NOT NULL CHECK (visibility BETWEEN 0 AND 3),
    language               TEXT NOT NULL DEFAULT '',
    application_id         INTEGER,
    replies_count          INTEGER NOT NULL DEFAULT 0,
    reblogs_count          INTEGER NOT NULL DEFAULT 0,
    favourites_count       INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL,
    edited_at              INTEGER
) STRICT;
CREATE INDEX statuses_account ON statuses (account_id, id);
CREATE INDEX statuses_reply ON statuses (in_reply_to_id);
CREATE INDEX statuses_reblog ON statuses (reblog_of_id, account_id);
CREATE INDEX statuses_public ON statuses (local, visibility, id);

-- Earlier versions of edited statuses, oldest first.
CREATE TABLE status_edits (
    id           INTEGER PRIMARY KEY,
    status_id    INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    text         TEXT NOT NULL,
    content      TEXT NOT NULL,
    spoiler_text TEXT NOT NULL,
    sensitive    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX status_edits_status ON status_edits (status_id, id);

CREATE TABLE mentions (
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
) STRICT;
CREATE INDEX mentions_account ON mentions (account_id, status_id);

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE -- lower case
) STRICT;

CREATE TABLE status_tags (
    tag_id    INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    status_id INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, status_id)
) STRICT;
CREATE INDEX status_tags_status ON status_tags (status_id);

-- Words of local statuses, for full-text search on both dialects.
CREATE TABLE status_words (
    word      TEXT NOT NULL,
    status_id INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (word, status_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX status_words_status ON status_words (status_id);

CREATE TABLE follows (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      INTEGER NOT NULL DEFAULT 1,
    notify            INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    UNIQUE (account_id, target_account_id)
) STRICT;
CREATE INDEX follows_target ON follows (target_account_id, id);

CREATE TABLE follow_requests (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      INTEGER NOT NULL DEFAULT 1,
    notify            INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    UNIQUE (account_id, target_account_id)
) STRICT;
CREATE INDEX follow_requests_target ON follow_requests (target_account_id, id);

CREATE TABLE blocks (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    UNIQUE (account_id, target_account_id)
) STRICT;
CREATE INDEX blocks_target ON blocks (target_account_id);

CREATE TABLE mutes (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    notifications     INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL,
    UNIQUE (account_id, target_account_id)
) STRICT;

CREATE TABLE favourites (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, status_id)
) STRICT;
CREATE INDEX favourites_status ON favourites (status_id, id);

CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, status_id)
) STRICT;

CREATE TABLE pins (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, status_id)
) STRICT;

-- The home timeline, written at post time (fan-out on write): reading the
-- hottest endpoint is one index range scan.
CREATE TABLE home_feed (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL,
    PRIMARY KEY (account_id, status_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX home_feed_status ON home_feed (status_id);
CREATE INDEX home_feed_author ON home_feed (account_id, author_id);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    status_id       INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX notifications_account ON notifications (account_id, id);
CREATE INDEX notifications_status ON notifications (status_id);

-- Idempotency-Key of POST /api/v1/statuses, kept for an hour.
CREATE TABLE idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) STRICT;
