-- Lists (Mastodon's): an account's named sets of accounts it follows, read
-- as a timeline of their statuses. replies_policy is Mastodon's name
-- (followed, list, none); an exclusive list's members leave the owner's
-- home timeline. A member stays only while followed (store.unlink).
CREATE TABLE lists (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title          TEXT COLLATE "C" NOT NULL,
    replies_policy TEXT COLLATE "C" NOT NULL DEFAULT 'list' CHECK (replies_policy IN ('followed', 'list', 'none')),
    exclusive      BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
CREATE INDEX lists_account ON lists (account_id, id);

-- A list's members; id is the membership's, the cursor of the list's
-- accounts page.
CREATE TABLE list_accounts (
    id         BIGINT NOT NULL,
    list_id    BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, account_id)
);
CREATE INDEX list_accounts_page ON list_accounts (list_id, id);
CREATE INDEX list_accounts_account ON list_accounts (account_id, list_id);

-- Endorsements: accounts an account features on its profile (pin/unpin).
CREATE TABLE account_pins (
    id                BIGINT PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX account_pins_target ON account_pins (target_account_id);

-- A user's own domain blocks: that domain's accounts are hidden from the
-- user's timelines and notifications (notMutedSQL, notifications).
CREATE TABLE account_domain_blocks (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain     TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, domain)
);
