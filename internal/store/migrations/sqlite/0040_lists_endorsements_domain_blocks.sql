-- Lists (Mastodon's): an account's named sets of accounts it follows, read
-- as a timeline of their statuses. replies_policy is Mastodon's name
-- (followed, list, none); an exclusive list's members leave the owner's
-- home timeline. A member stays only while followed (store.unlink).
CREATE TABLE lists (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    replies_policy TEXT NOT NULL DEFAULT 'list' CHECK (replies_policy IN ('followed', 'list', 'none')),
    exclusive      INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX lists_account ON lists (account_id, id);

-- A list's members; id is the membership's, the cursor of the list's
-- accounts page.
CREATE TABLE list_accounts (
    id         INTEGER NOT NULL,
    list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, account_id)
) STRICT;
CREATE INDEX list_accounts_page ON list_accounts (list_id, id);
CREATE INDEX list_accounts_account ON list_accounts (account_id, list_id);

-- Endorsements: accounts an account features on its profile (pin/unpin).
CREATE TABLE account_pins (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    UNIQUE (account_id, target_account_id)
) STRICT;
CREATE INDEX account_pins_target ON account_pins (target_account_id);

-- A user's own domain blocks: that domain's accounts are hidden from the
-- user's timelines and notifications (notMutedSQL, notifications).
CREATE TABLE account_domain_blocks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, domain)
) STRICT;
