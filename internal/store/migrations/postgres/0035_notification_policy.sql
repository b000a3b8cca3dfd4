-- Notification policy, requests and groups (Mastodon 4.3).
-- group_key: the group a favourite, reblog or follow joins (type, status and
-- hour bucket); NULL for the types never grouped and for filtered ones.
-- filtered: held back by the recipient's policy, shown only through a
-- notification request until accepted.
ALTER TABLE notifications ADD COLUMN group_key TEXT COLLATE "C";
ALTER TABLE notifications ADD COLUMN filtered BIGINT NOT NULL DEFAULT 0;
CREATE INDEX notifications_group ON notifications (account_id, group_key) WHERE group_key IS NOT NULL;
CREATE INDEX notifications_filtered ON notifications (account_id, from_account_id) WHERE filtered = 1;

-- One row per account that changed its policy; none means the defaults.
-- Each for_* is accept, filter or drop.
CREATE TABLE notification_policies (
    account_id           BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    for_not_following    TEXT COLLATE "C" NOT NULL,
    for_not_followers    TEXT COLLATE "C" NOT NULL,
    for_new_accounts     TEXT COLLATE "C" NOT NULL,
    for_private_mentions TEXT COLLATE "C" NOT NULL,
    for_limited_accounts TEXT COLLATE "C" NOT NULL,
    updated_at           BIGINT NOT NULL
);

-- A sender whose notifications the policy filtered, one row per recipient
-- and sender while any are held back.
CREATE TABLE notification_requests (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_status_id  BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (account_id, from_account_id)
);

-- Senders an account accepted: the policy no longer filters them.
CREATE TABLE notification_permissions (
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, from_account_id)
);
