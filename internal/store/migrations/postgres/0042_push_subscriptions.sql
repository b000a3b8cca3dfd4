-- Web Push subscriptions: one per access token (Mastodon's rule), gone
-- with the token when it is revoked (ON DELETE CASCADE). sealed_token is
-- the access token Mastodon sends back in every push, sealed with a key
-- derived from secret_key: the database alone does not reveal it.
-- alerts: the enabled notification types, space-separated.
CREATE TABLE push_subscriptions (
    id           BIGINT PRIMARY KEY,
    token_id     BIGINT NOT NULL UNIQUE REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    endpoint     TEXT COLLATE "C" NOT NULL,
    p256dh       TEXT COLLATE "C" NOT NULL,
    auth         TEXT COLLATE "C" NOT NULL,
    standard     INTEGER NOT NULL DEFAULT 0,
    alerts       TEXT COLLATE "C" NOT NULL,
    policy       TEXT COLLATE "C" NOT NULL,
    sealed_token TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);
